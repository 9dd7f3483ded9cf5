import type { IncomingMessage } from 'node:http'
import { createParser } from 'eventsource-parser'
import type { DeviceLogger } from '../logger.js'

/** One event of the CLIP v2 event stream: `update`, `add`, `delete` or `error`, with the resources concerned. */
export interface HueStreamEvent {
  readonly type: string
  readonly data: readonly (Record<string, unknown> & { readonly id: string; readonly type: string })[]
}

/** How long to wait before reconnecting: doubling from `initialMs` to `maxMs`. */
export interface Backoff {
  readonly initialMs: number
  readonly maxMs: number
}

/** Bridges reboot in about a minute; doubling from 1 s reaches 30 s after five tries and then keeps asking. */
export const DEFAULT_STREAM_BACKOFF: Backoff = { initialMs: 1000, maxMs: 30_000 }

export interface HueEventStreamOptions {
  /** Opens the stream (GET /eventstream/clip/v2 with the application key). */
  readonly open: () => Promise<IncomingMessage>
  readonly onEvents: (events: readonly HueStreamEvent[]) => void
  /** Connected; `again` after a drop, when events may have been missed and state must be read anew. */
  readonly onConnected: (again: boolean) => void
  readonly backoff?: Backoff
  readonly logger: DeviceLogger
  /** Names the bridge in logs. */
  readonly description: string
}

/**
 * Follows a bridge's CLIP v2 event stream (server-sent events, parsed by eventsource-parser) and keeps it open:
 * when it drops or cannot be opened, it is reopened with exponential backoff, and `onConnected(true)` tells the
 * owner to read state again, since events sent meanwhile are lost.
 */
export class HueEventStream {
  private response: IncomingMessage | undefined
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private connectedOnce = false
  private failures = 0
  private readonly backoff: Backoff

  constructor(private readonly options: HueEventStreamOptions) {
    this.backoff = options.backoff ?? DEFAULT_STREAM_BACKOFF
  }

  start(): void {
    this.stopped = false
    void this.connect()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.timer = undefined
    this.response?.destroy()
    this.response = undefined
  }

  private async connect(): Promise<void> {
    let response: IncomingMessage
    try {
      response = await this.options.open()
    } catch (error) {
      this.dropped(error as Error)
      return
    }
    if (this.stopped) {
      response.destroy()
      return
    }
    this.response = response
    this.failures = 0
    const again = this.connectedOnce
    this.connectedOnce = true
    this.options.logger.info({}, `${this.options.description}: event stream ${again ? 're' : ''}connected`)
    const parser = createParser({
      onEvent: (message) => {
        let events: unknown
        try {
          events = JSON.parse(message.data)
        } catch {
          this.options.logger.warn(
            { data: message.data.slice(0, 200) },
            `${this.options.description}: junk on the event stream`,
          )
          return
        }
        if (Array.isArray(events)) this.options.onEvents(events as HueStreamEvent[])
      },
    })
    response.setEncoding('utf8')
    response.on('data', (chunk: string) => parser.feed(chunk))
    let ended = false
    const end = (error: Error) => {
      if (ended) return
      ended = true
      if (this.response === response) this.response = undefined
      this.dropped(error)
    }
    response.on('end', () => end(new Error('the bridge closed the event stream')))
    response.on('close', () => end(new Error('the event stream connection closed')))
    response.on('error', end)
    this.options.onConnected(again)
  }

  private dropped(error: Error): void {
    if (this.stopped) return
    const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this.failures++)
    this.options.logger.warn(
      { err: error, retryInMs: delay },
      `${this.options.description}: event stream lost (${error.message}); reconnecting in ${delay} ms`,
    )
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.connect()
    }, delay)
  }
}

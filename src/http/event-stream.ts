import type { ServerResponse } from 'node:http'

/**
 * Proxies (Home Assistant's ingress among them) close a connection that stays silent for a minute or more; a
 * comment line every 25 s keeps an event stream open without the page seeing anything.
 */
const KEEPALIVE_MS = 25_000

/**
 * The server-sent event streams of one kind: each open page gets every {@link EventStreams.send}; a page that
 * goes away is forgotten.
 *
 * @example
 * const streams = new EventStreams()
 * route.handle = (request, response) => streams.open(response, [['state', snapshot()]])
 * streams.send('state', snapshot())
 */
export class EventStreams {
  private readonly streams = new Set<ServerResponse>()
  private readonly keepalive = setInterval(() => this.comment('keepalive'), KEEPALIVE_MS)

  constructor() {
    this.keepalive.unref()
  }

  get size(): number {
    return this.streams.size
  }

  /** Starts an event stream on `response` and sends `first` on it. */
  open(response: ServerResponse, first: readonly (readonly [event: string, data: unknown])[]): void {
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      // nginx (and proxies that copy it) would buffer the stream until it ends.
      'X-Accel-Buffering': 'no',
    })
    for (const [event, data] of first) response.write(frame(event, data))
    this.streams.add(response)
    response.on('close', () => this.streams.delete(response))
  }

  send(event: string, data: unknown): void {
    if (this.streams.size === 0) return
    const text = frame(event, data)
    for (const response of this.streams) response.write(text)
  }

  /** Ends every stream (the daemon stops). */
  close(): void {
    clearInterval(this.keepalive)
    for (const response of this.streams) response.end()
    this.streams.clear()
  }

  private comment(text: string): void {
    for (const response of this.streams) response.write(`: ${text}\n\n`)
  }
}

function frame(event: string, data: unknown): string {
  // JSON has no raw newlines, so the data is one `data:` line.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

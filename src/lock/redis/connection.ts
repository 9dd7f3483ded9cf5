import { createHash } from 'node:crypto'
import type { Command, Redis } from 'ioredis'
import { SCRIPTS } from './scripts.js'

export type Arg = string | number
export type ScriptName = keyof typeof SCRIPTS

/** Each script with the SHA1 that EVALSHA names it by. */
const LOADED = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, lua]) => [name, { lua, sha: createHash('sha1').update(lua).digest('hex') }]),
) as Record<ScriptName, { lua: string; sha: string }>

const UTF8 = { replyEncoding: 'utf8' } as const

/** What the protocol hears from its connections. */
export interface ConnectionEvents {
  message(text: string): void
  /** A connection came (back) up: what the server knows may have changed. */
  ready(): void
  /** A connection went down: pub/sub messages may be missed and the server may have restarted. */
  down(error: Error | undefined): void
}

/**
 * Two ioredis connections: `command` for scripts and publishing, `subscriber` for this client's channel.
 * ioredis is imported here, lazily, so a program using only the in-memory protocol never loads it.
 * Commands issued while Redis is unreachable wait in ioredis's offline queue (no retry limit); the
 * protocol's own timers bound every wait.
 */
export class RedisConnections {
  started = false
  subscribed: Promise<void> = Promise.resolve()

  private constructor(
    readonly command: Redis,
    readonly subscriber: Redis,
    private readonly Command: typeof import('ioredis').Command,
  ) {}

  /**
   * Runs a script (`args`: its one key, then ARGV) by EVALSHA, and by EVAL when the server answers NOSCRIPT
   * (it restarted or was flushed; nothing ran). ioredis's own script commands do the same at a cost of about
   * a kilobyte of wrappers per call, on the hot path of every lock.
   */
  script<T>(name: ScriptName, args: Arg[]): Promise<T> {
    const { sha, lua } = LOADED[name]
    const evalsha: Command = new this.Command('evalsha', [sha, 1, ...args], UTF8)
    return (this.command.sendCommand(evalsha) as Promise<T>).catch((error: unknown) => {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return this.command.sendCommand(new this.Command('eval', [lua, 1, ...args], UTF8)) as Promise<T>
    })
  }

  /** Imports ioredis and starts connecting; `subscribed` settles once this client's channel is listened to. */
  static async open(url: string, channel: string, events: ConnectionEvents): Promise<RedisConnections> {
    const { Redis, Command } = await import('ioredis')
    const options = {
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
      retryStrategy: (times: number) => Math.min(50 * times, 1000),
    }
    const command = new Redis(url, { ...options, connectionName: 'genlock' })
    // ioredis's own resubscribe after a reconnect sends SUBSCRIBE without handling its promise: a connection
    // closed before the reply then surfaced as an unhandled rejection, which ends a Node 20 process. So this
    // client resubscribes itself.
    const subscriber = new Redis(url, { ...options, connectionName: 'genlock-sub', autoResubscribe: false })
    const connections = new RedisConnections(command, subscriber, Command)
    // First 'ready' listener, so the SUBSCRIBE is queued before anything the protocol does on reconnecting.
    subscriber.on('ready', () => {
      if (connections.started) subscriber.subscribe(channel).catch((error: unknown) => events.down(error as Error))
    })
    for (const connection of [command, subscriber]) {
      // Without an 'error' listener ioredis prints every failed reconnect to the console.
      connection.on('error', (error: Error) => connections.started && events.down(error))
      connection.on('close', () => connections.started && events.down(undefined))
      connection.on('ready', () => connections.started && events.ready())
    }
    subscriber.on('message', (_channel: string, text: string) => events.message(text))
    // Waits (offline queue) for a Redis that is not up yet, rather than failing.
    connections.subscribed = subscriber.subscribe(channel).then(() => {
      connections.started = true
    })
    return connections
  }

  async close(): Promise<void> {
    await Promise.all(
      [this.command, this.subscriber].map(async (connection) => {
        // quit() on a connection that is down would wait for it to come back.
        if (connection.status === 'ready') await connection.quit().catch(() => undefined)
        connection.disconnect()
      }),
    )
  }
}

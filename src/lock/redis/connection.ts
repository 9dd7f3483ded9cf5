import type { Redis } from 'ioredis'
import { SCRIPTS } from './scripts.js'

type Arg = string | number

/** The scripted commands `defineCommand` adds (one key, then the script's ARGV). */
export interface ScriptedRedis {
  genlockAcquire(key: string, ...args: Arg[]): Promise<[string, string?, number?]>
  genlockRelease(key: string, ...args: Arg[]): Promise<number>
  genlockRenew(key: string, ...args: Arg[]): Promise<string[]>
  genlockRevoke(key: string, ...args: Arg[]): Promise<string[]>
}

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
    readonly command: Redis & ScriptedRedis,
    readonly subscriber: Redis,
  ) {}

  /** Imports ioredis and starts connecting; `subscribed` settles once this client's channel is listened to. */
  static async open(url: string, channel: string, events: ConnectionEvents): Promise<RedisConnections> {
    const { Redis } = await import('ioredis')
    const options = {
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
      retryStrategy: (times: number) => Math.min(50 * times, 1000),
    }
    const command = new Redis(url, { ...options, connectionName: 'genlock' })
    for (const [name, lua] of Object.entries(SCRIPTS)) command.defineCommand(name, { lua, numberOfKeys: 1 })
    // ioredis's own resubscribe after a reconnect sends SUBSCRIBE without handling its promise: a connection
    // closed before the reply then surfaced as an unhandled rejection, which ends a Node 20 process. So this
    // client resubscribes itself.
    const subscriber = new Redis(url, { ...options, connectionName: 'genlock-sub', autoResubscribe: false })
    const connections = new RedisConnections(command as Redis & ScriptedRedis, subscriber)
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

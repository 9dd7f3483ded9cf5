import type { LockLogger } from '../logger.js'

/** Where the Redis protocol reports trouble it survives (reconnects, failed renewals, listener errors). */
export type RedisLockLogger = LockLogger

/** How to reach Redis and how long leases last. */
export interface RedisProtocolOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`). Default `redis://127.0.0.1:6379`. */
  url?: string
  /**
   * Namespace of every key and channel; it becomes the `{hashtag}` of all keys, so one composite lock's keys
   * share a cluster slot. Daemons that share locks must use the same prefix. Default `genlock`.
   */
  keyPrefix?: string
  /**
   * How long the server keeps a silent client's locks, in ms: a holder killed with -9 frees its locks within
   * this time. Renewed in the background every `renewEvery` ms, independent of `lockTtl`. Default 5000.
   */
  lease?: number
  /** ms between lease renewals. Default lease / 3. */
  renewEvery?: number
  /** How long a thief waits for a preempted holder's acknowledgement before going ahead, in ms. Default 500. */
  handoffTimeout?: number
  /**
   * Clock drift allowance as a fraction of the lease (as in node-redlock): a holder treats its lease as lost
   * `lease * driftFactor + 2` ms before the server could expire it. Default 0.01.
   */
  driftFactor?: number
  logger?: RedisLockLogger
}

export interface ResolvedRedisOptions {
  readonly url: string
  readonly keyPrefix: string
  readonly lease: number
  readonly renewEvery: number
  readonly handoffTimeout: number
  /** ms subtracted from every locally computed lease deadline. */
  readonly drift: number
  readonly logger: RedisLockLogger | undefined
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`redisProtocol: ${name} must be a positive number of ms, got ${String(value)}`)
  }
  return value
}

export function resolveRedisOptions(options: RedisProtocolOptions = {}): ResolvedRedisOptions {
  const url = options.url ?? 'redis://127.0.0.1:6379'
  if (!/^rediss?:\/\//.test(url)) {
    throw new TypeError(`redisProtocol: url must start with redis:// or rediss://, got ${redactUrl(url)}`)
  }
  const keyPrefix = options.keyPrefix ?? 'genlock'
  if (typeof keyPrefix !== 'string' || keyPrefix === '' || /[{}]/.test(keyPrefix)) {
    throw new TypeError(`redisProtocol: keyPrefix must be a non-empty string without { or }, got ${String(keyPrefix)}`)
  }
  const lease = Math.round(positive('lease', options.lease, 5000))
  const renewEvery = positive('renewEvery', options.renewEvery, lease / 3)
  if (renewEvery >= lease)
    throw new TypeError(`redisProtocol: renewEvery (${renewEvery}) must be below lease (${lease})`)
  const driftFactor = options.driftFactor ?? 0.01
  if (typeof driftFactor !== 'number' || !(driftFactor >= 0 && driftFactor < 0.5)) {
    throw new TypeError(`redisProtocol: driftFactor must be a number in [0, 0.5), got ${String(driftFactor)}`)
  }
  return {
    url,
    keyPrefix,
    lease,
    renewEvery,
    handoffTimeout: positive('handoffTimeout', options.handoffTimeout, 500),
    drift: Math.round(lease * driftFactor) + 2,
    logger: options.logger,
  }
}

/** The url with any password replaced, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*):([^@/]*)@/, '//$1:***@')
}

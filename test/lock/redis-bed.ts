import { Redis } from 'ioredis'
import { afterEach, beforeEach } from 'vitest'
import { redisProtocol, type RedisProtocol, type RedisProtocolOptions } from '../../src/lock/redis/index.js'
import { startRedis } from '../support/services.js'

/** What a Redis fault test gets: its own redis-server, a client to look at it, and protocols closed after it. */
export interface RedisBed {
  readonly redis: Awaited<ReturnType<typeof startRedis>>
  /** A plain client, for reading what the server holds. */
  readonly inspector: Redis
  /** A Redis protocol on this test's server, closed after the test. */
  protocol(options: Omit<RedisProtocolOptions, 'url'>): RedisProtocol
}

/**
 * What a fault test reaches inside a protocol, to stop one of its sockets reading or to watch its requests: its
 * client id, its two connections once it has connected, and its requests by id.
 */
export interface ProtocolInternals {
  readonly clientId: string
  readonly connections: { readonly command: Redis & Record<string, unknown>; readonly subscriber: Redis }
  readonly pending: ReadonlyMap<string, { readonly state: string }>
}

export function internalsOf(protocol: RedisProtocol): ProtocolInternals {
  return protocol as unknown as ProtocolInternals
}

/**
 * A fresh redis-server for each test of the file (a fault test stops and restarts it), with vitest hooks that
 * close every protocol the test made and dispose of the server.
 */
export function redisPerTest(): RedisBed {
  let redis: RedisBed['redis'] | undefined
  let inspector: Redis | undefined
  let protocols: RedisProtocol[] = []
  beforeEach(async () => {
    redis = await startRedis()
    inspector = new Redis(redis.url)
  })
  afterEach(async () => {
    await Promise.all(protocols.map((protocol) => protocol.close()))
    protocols = []
    inspector?.disconnect()
    await redis?.dispose()
  })
  return {
    get redis() {
      return redis!
    },
    get inspector() {
      return inspector!
    },
    protocol(options) {
      const created = redisProtocol({ url: redis!.url, ...options })
      protocols.push(created)
      return created
    },
  }
}

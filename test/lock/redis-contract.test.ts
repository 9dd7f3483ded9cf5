import { Redis } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'
import { redisProtocol } from '../../src/lock/redis/index.js'
import { startRedis } from '../support/services.js'
import { describeProtocolContract } from './protocol-contract.js'

let redis: Awaited<ReturnType<typeof startRedis>>
let inspector: Redis
let prefixes = 0

beforeAll(async () => {
  redis = await startRedis()
  inspector = new Redis(redis.url)
})

afterAll(async () => {
  inspector?.disconnect()
  await redis?.dispose()
})

describeProtocolContract('redis', async () => {
  const keyPrefix = `contract-${++prefixes}`
  const protocol = redisProtocol({ url: redis.url, keyPrefix })
  return {
    protocol,
    revoke: (resource) => protocol.revoke(resource),
    async teardown() {
      await protocol.close()
      // Everything given back on the server: no hold, queue, waiter or lease left (counters stay, by design).
      const left = await inspector.keys(`{${keyPrefix}}:[hqwl]:*`)
      if (left.length > 0) throw new Error(`locks left behind on Redis: ${left.join(', ')}`)
    },
  }
})

import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { redisProtocol } from '../../src/lock/redis/index.js'

describe('redisProtocol options', () => {
  it('rejects bad options with the option named, and never echoes a password', () => {
    expect(() => redisProtocol({ url: 'http://user:hunter2@example.com' })).toThrow(
      /url must start with redis:\/\/ or rediss:\/\/, got http:\/\/user:\*\*\*@example.com/,
    )
    expect(() => redisProtocol({ keyPrefix: 'a{b}' })).toThrow(/keyPrefix must be a non-empty string without \{ or \}/)
    expect(() => redisProtocol({ lease: 0 })).toThrow(/lease must be a positive number of ms, got 0/)
    expect(() => redisProtocol({ lease: 1000, renewEvery: 1000 })).toThrow(/renewEvery \(1000\) must be below lease/)
    expect(() => redisProtocol({ handoffTimeout: -1 })).toThrow(/handoffTimeout must be a positive number/)
    expect(() => redisProtocol({ driftFactor: 0.7 })).toThrow(/driftFactor must be a number in \[0, 0.5\)/)
  })

  it('does not load ioredis until a Redis protocol is first used', () => {
    // A fresh process: this test process may have loaded ioredis already.
    const script = `
      import { createRequire } from 'node:module'
      const require = createRequire(import.meta.url)
      const loaded = () => Object.keys(require.cache).some((path) => path.includes('/node_modules/ioredis/'))
      const lib = await import('./src/index.ts')
      const before = loaded()
      const protocol = lib.redisProtocol({ url: 'redis://127.0.0.1:1' })
      const created = loaded()
      await protocol.acquire({ resources: ['r'], lockerGuid: 'g', priority: 0, lockTtl: Infinity,
        acquireTimeout: 50, maxAcquireAttempts: Infinity }).catch((error) => error.code)
      console.log(JSON.stringify({ before, created, used: loaded() }))
      await protocol.close()
    `
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url),
      encoding: 'utf8',
    })
    expect(JSON.parse(output.trim().split('\n').pop()!)).toEqual({ before: false, created: false, used: true })
  })
})

import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import genLock from '../../src/index.js'
import { SCRIPTS } from '../../src/lock/redis/scripts.js'
import { holdLock, nextLockEvent, uniqueResource } from './helpers.js'
import { redisPerTest } from './redis-bed.js'

/**
 * A waiter is granted while its process stands still past its lease (a SIGSTOP, a stalled event loop). When the
 * process runs again, its renewal reaps it: the server drops that grant (telling it `L`) and forgets it, and the
 * client asks again. The loss message is about the forgotten grant: taken for the new one, it lost that one at
 * once without giving it back, and the server kept it for a client that renews for ever (the fault workload hung
 * with seed 410651193: every acquisition waited out its acquireTimeout).
 */
describe('redis protocol: a grant the server reaped while its client stood still', () => {
  const LEASE = 300
  const bed = redisPerTest()

  it('asks again for a grant reaped during a stall, and runs the waiter with what it is given', async () => {
    const keyPrefix = 'reaped'
    const { inspector } = bed
    const protocol = bed.protocol({ keyPrefix, lease: LEASE })
    const lock = genLock({}, protocol)
    const { newLocker } = lock
    const resource = uniqueResource('reaped-grant')

    const { release: holderStep, holding, token: holderToken } = await holdLock(lock, resource)
    const holder = holding.recover((ops) => ops.reject()).catch(() => undefined)
    const [holderLease] = Object.keys(await inspector.hgetall(`{${keyPrefix}}:h:${resource}`)).filter((f) => f !== '_o')

    const waiter = newLocker(resource, null, { acquireTimeout: 10_000 })
    const queued = nextLockEvent(protocol, (e) => e.type === 'waiting' && e.lockerGuid === waiter.lockerGuid)
    const waiterTokens: number[] = []
    const waiterLosses: string[] = []
    const waiterDone = waiter
      .promise(function* (_bulb, context) {
        waiterTokens.push(context.token)
        return 'ran'
      })
      .recover((ops, error) => {
        waiterLosses.push(error.code)
        return ops.restart()
      })
    await queued
    const waiterGrants: number[] = []
    protocol.on((e) => {
      if (e.type === 'acquired' && e.lockerGuid === waiter.lockerGuid) waiterGrants.push(e.token!)
    })

    // The stall: nothing in this process runs for twice the lease, so the server's deadline for this client passes.
    const until = performance.now() + LEASE * 2
    while (performance.now() < until) {
      // spinning, as a process under SIGSTOP would stand still
    }
    // Still standing still, another party gives the holder's lease back (a release does not reap): the server
    // grants the waiter, whose client it already counts as dead.
    const released = spawnSync('redis-cli', [
      '-p',
      String(bed.redis.port),
      'EVAL',
      SCRIPTS.genlockRelease,
      '1',
      `{${keyPrefix}}:clients`,
      `{${keyPrefix}}:`,
      holderLease!,
    ])
    expect(released.status).toBe(0)

    expect(await waiterDone).toBe('ran')
    holderStep.resolve()
    await holder
    // Every grant of the waiter was given back: nothing holds the resource on the server.
    await protocol.close()
    expect(await inspector.exists(`{${keyPrefix}}:h:${resource}`)).toBe(0)
    // The grant the server forgot (token holderToken + 1) was never taken: only grants made since.
    expect(waiterGrants.length).toBeGreaterThan(0)
    for (const token of [...waiterGrants, ...waiterTokens]) expect(token).toBeGreaterThan(holderToken + 1)
  })
})

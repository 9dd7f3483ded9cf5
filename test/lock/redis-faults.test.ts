import { describe, expect, it } from 'vitest'
import genLock, { LockError, type LockEvent } from '../../src/index.js'
import type { RedisProtocol } from '../../src/lock/redis/index.js'
import { deferred, nextLockEvent, uniqueResource } from './helpers.js'
import { redisPerTest } from './redis-bed.js'

/** What happens to holders and waiters when the Redis server itself goes away. */
describe('redis protocol when Redis fails', () => {
  const bed = redisPerTest()

  function protocol(lease = 5000): RedisProtocol {
    return bed.protocol({ keyPrefix: 'faults', lease })
  }

  const event = (type: LockEvent['type'], lockerGuid: string) => (e: LockEvent) =>
    e.type === type && e.lockerGuid === lockerGuid

  it('sends a holder to recovery with LOST when Redis restarts mid-transaction, then restarts it', async () => {
    const locks = protocol()
    const { newLocker } = genLock({}, locks)
    const locker = newLocker(uniqueResource('restart'), null)
    const holding = deferred()
    const tokens: number[] = []
    const codes: string[] = []
    const done = locker
      .promise(function* (_bulb, context) {
        tokens.push(context.token)
        holding.resolve()
        if (tokens.length === 1) yield new Promise(() => {}) // suspended here until the lock is lost
        return 'finished on the restarted server'
      })
      .recover((ops, error) => {
        codes.push(error.code)
        return ops.restart()
      })
    await holding.promise
    await bed.redis.restart()
    expect(await done).toBe('finished on the restarted server')
    expect(codes).toEqual(['LOST'])
    // The restarted server lost its counters, yet the new grant's token is larger.
    expect(tokens[1]!).toBeGreaterThan(tokens[0]!)
  })

  it('loses held locks while Redis is down longer than the lease; waiters get the lock once it returns', async () => {
    const lease = 400
    const locks = protocol(lease)
    const { newLocker } = genLock({}, locks)
    const resource = uniqueResource('outage')
    const holder = newLocker(resource, null)
    const holding = deferred()
    const recovering = deferred()
    const codes: string[] = []
    let runs = 0
    const held = holder
      .promise(function* () {
        runs++
        holding.resolve()
        if (runs === 1) yield new Promise(() => {})
        return runs
      })
      .recover((ops, error) => {
        codes.push(error.code)
        recovering.resolve()
        return ops.restart()
      })
    await holding.promise
    const lost = nextLockEvent(locks, event('lost', holder.lockerGuid))
    await bed.redis.stop()
    // The recover handler runs a microtask after the `lost` event: awaiting the event alone raced it whenever the
    // lease ran out after stop() had returned (a clean-clone run saw `codes` still empty).
    await Promise.all([lost, recovering.promise])
    expect(codes).toEqual(['LOST'])
    // A bounded acquisition gives up while Redis is away: more than a lease has now gone by.
    const impatient = newLocker(uniqueResource('impatient'), null, { acquireTimeout: 2 * lease })
    const gaveUp = await impatient.promise(function* () {}).catch((error: unknown) => error)
    expect((gaveUp as LockError).code).toBe('ACQUIRE_TIMEOUT')
    // An unbounded one started during the outage waits, and so does the holder's restart.
    const patient = newLocker(resource, null).promise(function* () {
      return 'patient ran'
    })
    await bed.redis.start()
    expect(await held).toBe(2)
    expect(await patient).toBe('patient ran')
  })

  it('lets an acquisition waiting for Redis to come back be withdrawn by its signal', async () => {
    const locks = protocol()
    await genLock({}, locks)
      .newLocker(uniqueResource('warm-up'), null)
      .promise(function* () {}) // connected once
    await bed.redis.stop()
    const controller = new AbortController()
    const resource = uniqueResource('withdrawn-in-outage')
    const acquiring = locks.acquire({
      resources: [resource],
      lockerGuid: 'withdrawn',
      priority: 0,
      lockTtl: Infinity,
      acquireTimeout: Infinity,
      maxAcquireAttempts: Infinity,
      signal: controller.signal,
    })
    const gaveUp = nextLockEvent(locks, (e) => e.type === 'gave-up' && e.resource === resource)
    controller.abort()
    expect(((await acquiring.then(undefined, (error: unknown) => error)) as LockError).code).toBe('CANCELLED')
    expect((await gaveUp).reason).toBe('CANCELLED')
  })

  it('acquires once Redis comes up when it was down from the start', async () => {
    await bed.redis.stop()
    const locks = protocol()
    const { newLocker } = genLock({}, locks)
    const locker = newLocker(uniqueResource('late-redis'), null)
    const waiting = locker.promise(function* (_bulb, context) {
      return context.token
    })
    let settled = false
    void waiting.finally(() => (settled = true))
    await bed.redis.start()
    expect(settled).toBe(false)
    expect(await waiting).toBeGreaterThan(0)
  })
  it('logs a throwing reachability listener and still reports the outage and the return to the others', async () => {
    const logged: { details: object; message: string }[] = []
    const locks = bed.protocol({
      keyPrefix: 'faults',
      logger: { warn: (details, message) => logged.push({ details, message }) },
    })
    await locks.acquire({
      resources: [uniqueResource('reach')],
      lockerGuid: 'probe',
      priority: 0,
      lockTtl: Infinity,
      acquireTimeout: Infinity,
      maxAcquireAttempts: Infinity,
    })
    const seen: boolean[] = []
    const back = deferred()
    locks.backend.onChange(() => {
      throw new Error('listener bug')
    })
    locks.backend.onChange((reachable) => {
      seen.push(reachable)
      if (reachable) back.resolve()
    })
    await bed.redis.restart()
    await back.promise
    expect(seen).toEqual([false, true])
    const failures = logged.filter((entry) => entry.message.includes('reachability listener failed'))
    expect(failures.map((entry) => (entry.details as { reachable: boolean }).reachable)).toEqual([false, true])
  })
})

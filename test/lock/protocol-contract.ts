import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import genLock, {
  LockError,
  type Lease,
  type LockEvent,
  type LockerFactory,
  type LockingProtocol,
} from '../../src/index.js'
import { collectGarbage } from '../support/collect-garbage.js'
import { deferred, holdLock, nextLockEvent, uniqueResource } from './helpers.js'

/** What a protocol implementation provides to run the contract suite against it. */
export interface ProtocolHarness {
  protocol: LockingProtocol
  /** Makes the protocol lose every lease on `resource` (as an operator's unlock or a backend failure would). */
  revoke(resource: string): Promise<void> | void
  teardown(): Promise<void>
}

/**
 * The gen-lock semantics every LockingProtocol must give, checked through the public API. Written once and run
 * against each implementation (memory now, Redis alongside), in the manner of async-mutex's shared suites.
 */
export function describeProtocolContract(name: string, setup: () => Promise<ProtocolHarness>): void {
  describe(`LockingProtocol contract: ${name}`, () => {
    let harness: ProtocolHarness
    let lock: LockerFactory
    let protocol: LockingProtocol

    beforeEach(async () => {
      harness = await setup()
      protocol = harness.protocol
      lock = genLock({}, protocol)
    })

    afterEach(async () => {
      await harness.teardown()
    })

    /** Proves `resource` is free: a single-attempt acquire gets it at once. */
    async function expectFree(resource: string) {
      const probe = lock.newLocker(resource, null)
      await expect(probe.promise(function* () {}, { maxAcquireAttempts: 1 })).resolves.toBeUndefined()
    }

    const waitingFor = (lockerGuid: string) => (e: LockEvent) => e.type === 'waiting' && e.lockerGuid === lockerGuid

    it('never lets two lockers hold the same resource at once', async () => {
      const resource = uniqueResource('exclusive')
      let inside = 0
      let maxInside = 0
      // A locker's own transactions share its lock (re-entrance), so every transaction gets its own locker.
      await Promise.all(
        Array.from({ length: 4 }, () =>
          Array.from({ length: 5 }, () =>
            lock.newLocker(resource, null).promise(function* () {
              inside++
              maxInside = Math.max(maxInside, inside)
              yield new Promise((resolve) => setImmediate(resolve))
              yield Promise.resolve()
              inside--
            }),
          ),
        ).flat(),
      )
      expect(maxInside).toBe(1)
      await expectFree(resource)
    })

    it('lets a strictly higher priority preempt the holder at once, and the holder recover', async () => {
      const resource = uniqueResource('preempt')
      const low = lock.newLocker(resource, null, { priority: 0 })
      const high = lock.newLocker(resource, null, { priority: 10 })
      const log: string[] = []
      const lowHolding = deferred()
      const never = new Promise(() => {})
      const errors: LockError[] = []
      let lowRuns = 0
      const lowDone = low
        .promise(function* () {
          lowRuns++
          log.push('low:start')
          lowHolding.resolve()
          if (lowRuns === 1) yield never
          log.push('low:end')
          return 'low'
        })
        .recover((ops, error) => {
          errors.push(error)
          return ops.restart()
        })
      await lowHolding.promise
      const highDone = high.promise(function* () {
        log.push('high:start')
        yield Promise.resolve()
        log.push('high:end')
        return 'high'
      })
      expect(await highDone).toBe('high')
      expect(await lowDone).toBe('low')
      expect(log).toEqual(['low:start', 'high:start', 'high:end', 'low:start', 'low:end'])
      expect(errors.map((e) => e.code)).toEqual(['PREEMPTED'])
      await expectFree(resource)
    })

    it('makes equal and lower priorities wait for the holder', async () => {
      const resource = uniqueResource('wait')
      const holder = lock.newLocker(resource, null, { priority: 5 })
      const equal = lock.newLocker(resource, null, { priority: 5 })
      const lower = lock.newLocker(resource, null, { priority: 1 })
      const release = deferred()
      const log: string[] = []
      const held = deferred()
      const first = holder.promise(function* () {
        held.resolve()
        yield release.promise
        log.push('holder')
      })
      await held.promise
      const equalQueued = nextLockEvent(protocol, waitingFor(equal.lockerGuid))
      const second = equal.promise(function* () {
        log.push('equal')
      })
      await equalQueued
      const lowerQueued = nextLockEvent(protocol, waitingFor(lower.lockerGuid))
      const third = lower.promise(function* () {
        log.push('lower')
      })
      await lowerQueued
      expect(log).toEqual([])
      release.resolve()
      await Promise.all([first, second, third])
      expect(log).toEqual(['holder', 'equal', 'lower'])
    })

    it('serves waiters highest priority first, first come first served within a priority', async () => {
      const resource = uniqueResource('order')
      const { release, holding } = await holdLock(lock, resource, { priority: 100 })
      const order: string[] = []
      const runs: Promise<unknown>[] = []
      for (const [label, priority] of [
        ['a1', 1],
        ['b5', 5],
        ['c5', 5],
        ['d1', 1],
        ['e9', 9],
      ] as const) {
        const locker = lock.newLocker(resource, null, { priority })
        const queued = nextLockEvent(protocol, waitingFor(locker.lockerGuid))
        runs.push(
          locker.promise(function* () {
            order.push(label)
            yield Promise.resolve()
          }),
        )
        await queued
      }
      release.resolve()
      await Promise.all([holding, ...runs])
      expect(order).toEqual(['e9', 'b5', 'c5', 'a1', 'd1'])
    })

    it('lets lockers sharing a lockerGuid hold together, releasing after the last one', async () => {
      const resource = uniqueResource('reentrant')
      const first = lock.newLocker(resource, null, {}, 'group-guid')
      const second = lock.newLocker(resource, null, {}, 'group-guid')
      const other = lock.newLocker(resource, null)
      const releaseFirst = deferred()
      const releaseSecond = deferred()
      const log: string[] = []
      const started = [deferred(), deferred()]
      const a = first.promise(function* () {
        log.push('first:in')
        started[0]!.resolve()
        yield releaseFirst.promise
        log.push('first:out')
      })
      await started[0]!.promise
      const b = second.promise(function* () {
        log.push('second:in')
        started[1]!.resolve()
        yield releaseSecond.promise
        log.push('second:out')
      })
      await started[1]!.promise
      const queued = nextLockEvent(protocol, waitingFor(other.lockerGuid))
      const c = other.promise(function* () {
        log.push('other')
      })
      await queued
      releaseFirst.resolve()
      await a
      expect(log).toEqual(['first:in', 'second:in', 'first:out'])
      releaseSecond.resolve()
      await Promise.all([b, c])
      expect(log).toEqual(['first:in', 'second:in', 'first:out', 'second:out', 'other'])
    })

    it('gives composite lockers both resources, in any order of parts, without deadlock', async () => {
      const ra = uniqueResource('dual-a')
      const rb = uniqueResource('dual-b')
      const a = lock.newLocker(ra, 'A')
      const b = lock.newLocker(rb, 'B')
      const ab = () => lock.newDualLocker(a, b)
      const ba = () => lock.newDualLocker(b, a)
      let inside = 0
      let overlap = false
      const work = (label: string) =>
        function* (resource: unknown) {
          inside++
          if (inside > 1) overlap = true
          yield new Promise((resolve) => setImmediate(resolve))
          inside--
          return `${label}:${JSON.stringify(resource)}`
        }
      const results = await Promise.all([
        ab().promise(work('ab')),
        ba().promise(work('ba')),
        ab().promise(work('ab')),
        ba().promise(work('ba')),
      ])
      expect(overlap).toBe(false)
      expect(results).toEqual(['ab:["A","B"]', 'ba:["B","A"]', 'ab:["A","B"]', 'ba:["B","A"]'])
      await expectFree(ra)
      await expectFree(rb)
    })

    it('loses the whole composite lock when one part is taken, and recovers it whole', async () => {
      const ra = uniqueResource('group-a')
      const rb = uniqueResource('group-b')
      const rc = uniqueResource('group-c')
      const group = lock.newGroupLocker([lock.newLocker(ra, 1), lock.newLocker(rb, 2), lock.newLocker(rc, 3)])
      const thief = lock.newLocker(rb, 2, { priority: 1 })
      const holding = deferred()
      const errors: string[] = []
      let runs = 0
      const groupDone = group
        .promise(function* (resources) {
          runs++
          holding.resolve()
          if (runs === 1) yield new Promise(() => {})
          return resources
        })
        .recover((ops, error) => {
          errors.push(error.code)
          return ops.restart()
        })
      await holding.promise
      await thief.promise(function* () {
        yield Promise.resolve()
      })
      expect(await groupDone).toEqual([1, 2, 3])
      expect(errors).toEqual(['PREEMPTED'])
      for (const resource of [ra, rb, rc]) await expectFree(resource)
    })

    it('expires a lease at lockTtl and sends the transaction to recovery with EXPIRED', async () => {
      const resource = uniqueResource('ttl')
      const locker = lock.newLocker(resource, null, { lockTtl: 30 })
      const expired = nextLockEvent(protocol, (e) => e.type === 'expired' && e.resource === resource)
      const codes: string[] = []
      let runs = 0
      const result = await locker
        .promise(function* () {
          runs++
          if (runs === 1) yield new Promise(() => {})
          return runs
        })
        .recover((ops, error) => {
          codes.push(error.code)
          return ops.restart({ lockTtl: Infinity })
        })
      expect(result).toBe(2)
      expect(codes).toEqual(['EXPIRED'])
      expect(await expired).toMatchObject({ lockerGuid: locker.lockerGuid, priority: 0 })
    })

    it('rejects with ACQUIRE_TIMEOUT without calling the recover handler', async () => {
      const resource = uniqueResource('timeout')
      const { release, holding } = await holdLock(lock, resource)
      let handlerCalls = 0
      const waiter = lock.newLocker(resource, null, { aquireTimeout: 20 })
      const error = await waiter
        .promise(function* () {})
        .recover((ops) => {
          handlerCalls++
          return ops.resume()
        })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LockError)
      expect((error as LockError).code).toBe('ACQUIRE_TIMEOUT')
      expect(handlerCalls).toBe(0)
      release.resolve()
      await holding
      await expectFree(resource)
    })

    it('gives up at once with ALREADY_LOCKED when maxAcquireAttempts is 1', async () => {
      const resource = uniqueResource('attempts')
      const { release, holding } = await holdLock(lock, resource)
      const error = await lock
        .newLocker(resource, null, { maxAquireAttempts: 1 })
        .promise(function* () {})
        .catch((e: unknown) => e)
      expect((error as LockError).code).toBe('ALREADY_LOCKED')
      release.resolve()
      await holding
    })

    it('counts a waiter out of maxAcquireAttempts each time the lock goes to another, and only that waiter', async () => {
      const resource = uniqueResource('chances')
      const { release, holding } = await holdLock(lock, resource, { priority: 5 })
      const order: string[] = []
      const waiting = (guid: string) => nextLockEvent(protocol, waitingFor(guid))
      const run = (guid: string, options: { priority?: number; maxAcquireAttempts?: number }) =>
        lock
          .newLocker(resource, null, {}, guid)
          .promise(function* () {
            order.push(guid)
            yield Promise.resolve()
          }, options)
          .then(
            () => 'done',
            (e: unknown) => (e as LockError).code,
          )
      const limitedQueued = waiting('limited')
      const limited = run('limited', { maxAcquireAttempts: 2 })
      await limitedQueued
      const patientQueued = waiting('patient')
      const patient = run('patient', {})
      await patientQueued
      const urgentQueued = waiting('urgent')
      const urgent = run('urgent', { priority: 1 })
      await urgentQueued
      release.resolve()
      await holding
      // The lock went to `urgent` past both: `limited` had its second and last chance, `patient` waits on.
      expect(await limited).toBe('ALREADY_LOCKED')
      expect(await urgent).toBe('done')
      expect(await patient).toBe('done')
      expect(order).toEqual(['urgent', 'patient'])
      await expectFree(resource)
    })

    it('sends a lock the protocol lost to recovery with LOST', async () => {
      const resource = uniqueResource('lost')
      const locker = lock.newLocker(resource, null)
      const holding = deferred()
      const codes: string[] = []
      let runs = 0
      const done = locker
        .promise(function* () {
          runs++
          holding.resolve()
          if (runs === 1) yield new Promise(() => {})
          return runs
        })
        .recover((ops, error) => {
          codes.push(error.code)
          return ops.restart()
        })
      await holding.promise
      await harness.revoke(resource)
      expect(await done).toBe(2)
      expect(codes).toEqual(['LOST'])
    })

    it('issues fencing tokens that only grow, re-entrant grants included', async () => {
      const resource = uniqueResource('tokens')
      const tokens: number[] = []
      const shared = 'token-group'
      for (let i = 0; i < 3; i++) {
        await lock.newLocker(resource, null).promise(function* (_r, ctx) {
          tokens.push(ctx.token)
        })
      }
      const inner = deferred()
      const outer = lock.newLocker(resource, null, {}, shared).promise(function* (_r, ctx) {
        tokens.push(ctx.token)
        yield inner.promise
      })
      await lock.newLocker(resource, null, {}, shared).promise(function* (_r, ctx) {
        tokens.push(ctx.token)
      })
      inner.resolve()
      await outer
      expect(tokens).toHaveLength(5)
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]!).toBeGreaterThan(tokens[i - 1]!)
    })

    it('emits waiting, acquired, preempted and released events with resource, locker, priority and token', async () => {
      const resource = uniqueResource('events')
      const events: LockEvent[] = []
      const off = protocol.on((event) => {
        if (event.resource === resource) events.push(event)
      })
      const low = lock.newLocker(resource, null, { priority: 1 })
      const high = lock.newLocker(resource, null, { priority: 2 })
      const same = lock.newLocker(resource, null, { priority: 2 })
      const held = deferred()
      const lowDone = low
        .promise(function* () {
          held.resolve()
          yield new Promise(() => {})
        })
        .recover((ops) => ops.reject())
        .catch((e: unknown) => e)
      await held.promise
      const highHeld = deferred()
      const releaseHigh = deferred()
      const highDone = high.promise(function* () {
        highHeld.resolve()
        yield releaseHigh.promise
      })
      await highHeld.promise
      const queued = nextLockEvent(protocol, waitingFor(same.lockerGuid))
      const sameDone = same.promise(function* () {})
      await queued
      releaseHigh.resolve()
      await Promise.all([lowDone, highDone, sameDone])
      off()
      const seen = events.map(
        (e) =>
          `${e.type}:${e.lockerGuid === low.lockerGuid ? 'low' : e.lockerGuid === high.lockerGuid ? 'high' : 'same'}`,
      )
      expect(seen).toEqual([
        'acquired:low',
        'preempted:low',
        'acquired:high',
        'waiting:same',
        'released:high',
        'acquired:same',
        'released:same',
      ])
      const preempted = events.find((e) => e.type === 'preempted')!
      expect(preempted).toMatchObject({ priority: 1, by: { lockerGuid: high.lockerGuid, priority: 2 } })
      expect(typeof preempted.token).toBe('number')
      const acquired = events.filter((e) => e.type === 'acquired').map((e) => e.token!)
      expect(acquired[1]!).toBeGreaterThan(acquired[0]!)
    })

    it('withdraws a cancelled waiter so the next one is served', async () => {
      const resource = uniqueResource('cancel')
      const { release, holding } = await holdLock(lock, resource, { priority: 10 })
      const cancelled = lock.newLocker(resource, null, { priority: 3 })
      const next = lock.newLocker(resource, null, { priority: 1 })
      const queuedA = nextLockEvent(protocol, waitingFor(cancelled.lockerGuid))
      const a = cancelled.promise(function* () {
        return 'should not run'
      })
      await queuedA
      const queuedB = nextLockEvent(protocol, waitingFor(next.lockerGuid))
      const b = next.promise(function* () {
        return 'next ran'
      })
      await queuedB
      a.cancel('user stopped it')
      expect(((await a.catch((e: unknown) => e)) as LockError).code).toBe('CANCELLED')
      release.resolve()
      expect(await b).toBe('next ran')
      await holding
      await expectFree(resource)
    })

    it("lets go of a released lease's loss listeners, though the lease is still held", async () => {
      const resource = uniqueResource('released')
      const lease = await protocol.acquire({
        resources: [resource],
        lockerGuid: 'holder',
        priority: 0,
        lockTtl: Infinity,
        acquireTimeout: Infinity,
        maxAcquireAttempts: Infinity,
      })
      const captured = listenOnLoss(lease)
      await lease.release()
      await collectGarbage()
      expect(lease.valid).toBe(false)
      expect(captured.deref()).toBeUndefined()
      await expectFree(resource)
    })
  })
}

/** Registers a loss listener that alone holds an object; returns a WeakRef to that object. */
function listenOnLoss(lease: Lease): WeakRef<object> {
  const held = { by: 'a loss listener' }
  lease.onLost(() => void held)
  return new WeakRef(held)
}

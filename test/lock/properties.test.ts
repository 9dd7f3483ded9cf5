/**
 * Property test: random mixes of priorities, TTLs, acquire timeouts, attempt limits, re-entrance and
 * composite locks, under interleavings chosen by fast-check's scheduler and fake time, never let two holders
 * overlap, never let a lower priority be granted ahead of a higher one waiting for the same resource, always
 * finish every transaction, and always end with every lock released and no timer left.
 */
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import genLock, {
  memoryProtocol,
  type AcquireOptions,
  type Lease,
  type LockError,
  type TransactionContext,
} from '../../src/index.js'

const RESOURCES = ['r0', 'r1', 'r2'] as const

interface TaskSpec {
  guid: number
  resources: (typeof RESOURCES)[number][]
  priority: number
  steps: ('tick' | 'sleep')[]
  lockTtl: number | undefined
  acquireTimeout: number | undefined
  maxAcquireAttempts: number | undefined
  onLoss: 'resume' | 'restart' | 'reject'
}

const taskArb: fc.Arbitrary<TaskSpec> = fc.record({
  guid: fc.integer({ min: 0, max: 5 }),
  resources: fc.subarray([...RESOURCES], { minLength: 1 }),
  priority: fc.integer({ min: 0, max: 3 }),
  steps: fc.array(fc.constantFrom('tick' as const, 'sleep' as const), { minLength: 1, maxLength: 4 }),
  lockTtl: fc.option(fc.integer({ min: 5, max: 40 }), { nil: undefined }),
  acquireTimeout: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
  maxAcquireAttempts: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  onLoss: fc.constantFrom('resume' as const, 'restart' as const, 'reject' as const),
})

describe('gen-lock properties', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('keeps holders exclusive, serves priority first, finishes everything and releases every lock', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(taskArb, { minLength: 1, maxLength: 8 }), async (s, specs) => {
        const protocol = memoryProtocol()
        const lock = genLock({}, protocol)
        const violations: string[] = []

        // Starvation check at the protocol: no grant may go to a lower priority while a higher one waits.
        protocol.on((event) => {
          if (event.type !== 'acquired') return
          const [state] = protocol.snapshot(event.resource)
          if (state?.holder && state.holder.leases > 1) return // joining its own group's hold (re-entrance)
          for (const waiter of state?.waiting ?? []) {
            if (waiter.priority > event.priority && waiter.lockerGuid !== event.lockerGuid) {
              violations.push(`${event.resource} granted at priority ${event.priority} over waiting ${waiter.priority}`)
            }
          }
        })

        const contexts: (TransactionContext | undefined)[] = specs.map(() => undefined)
        const checkExclusive = (index: number) => {
          const me = specs[index]!
          specs.forEach((other, j) => {
            const ctx = contexts[j]
            if (j === index || !ctx || other.guid === me.guid) return
            if (!other.resources.some((r) => me.resources.includes(r))) return
            if (!ctx.signal.aborted) violations.push(`task ${index} stepped while task ${j} held a shared resource`)
          })
        }

        const outcomes = specs.map((spec, index) => {
          const lockers = spec.resources.map((resource) => lock.newLocker(resource, resource, {}, `g${spec.guid}`))
          const locker = lockers.length === 1 ? lockers[0]! : lock.newGroupLocker(lockers as never, {}, `g${spec.guid}`)
          const options: AcquireOptions = {
            priority: spec.priority,
            ...(spec.lockTtl !== undefined && { lockTtl: spec.lockTtl }),
            ...(spec.acquireTimeout !== undefined && { acquireTimeout: spec.acquireTimeout }),
            ...(spec.maxAcquireAttempts !== undefined && { maxAcquireAttempts: spec.maxAcquireAttempts }),
          }
          let losses = 0
          return s.schedule(Promise.resolve(), `start ${index}`).then(() =>
            (locker as ReturnType<typeof lock.newLocker<unknown>>)
              .promise(function* (_resource, ctx) {
                contexts[index] = ctx
                for (const step of spec.steps) {
                  checkExclusive(index)
                  yield step === 'tick' ? s.schedule(Promise.resolve(), `task ${index} tick`) : ctx.sleep(10)
                }
                checkExclusive(index)
                return 'done'
              }, options)
              .recover((ops) => (++losses > 3 ? ops.reject() : ops[spec.onLoss]()))
              .then(
                () => 'done',
                (error: unknown) => (error as { code?: string }).code ?? String(error),
              ),
          )
        })

        let settled = false
        const all = Promise.all(outcomes).then((results) => {
          settled = true
          return results
        })
        for (let guard = 0; !settled && guard < 10_000; guard++) {
          if (s.count() > 0) await s.waitOne()
          else if (vi.getTimerCount() > 0) await vi.advanceTimersToNextTimerAsync()
          else await Promise.resolve() // let settled promise reactions run
          if (!settled && s.count() === 0 && vi.getTimerCount() === 0) {
            // Give pending reactions a few turns; a real deadlock stays stuck.
            for (let i = 0; i < 20 && s.count() === 0 && !settled; i++) await Promise.resolve()
            if (!settled && s.count() === 0 && vi.getTimerCount() === 0) break
          }
        }
        expect(settled, `every transaction finishes (scheduler: ${s.report().length} tasks run)`).toBe(true)
        const results = await all
        for (const result of results)
          expect(['done', 'PREEMPTED', 'EXPIRED', 'ACQUIRE_TIMEOUT', 'ALREADY_LOCKED']).toContain(result)
        expect(violations).toEqual([])
        expect(protocol.idle, JSON.stringify(protocol.snapshot())).toBe(true)
        expect(vi.getTimerCount()).toBe(0)
      }),
      { numRuns: 300 },
    )
  })
})

interface WaiterSpec {
  resources: (typeof RESOURCES)[number][]
  priority: number
  acquireTimeout: number | undefined
  abortAfter: number | undefined
  maxAcquireAttempts: number | undefined
  holdFor: number
}

const waiterArb: fc.Arbitrary<WaiterSpec> = fc.record({
  resources: fc.subarray([...RESOURCES], { minLength: 1 }),
  priority: fc.integer({ min: 0, max: 3 }),
  acquireTimeout: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined, freq: 3 }),
  abortAfter: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined, freq: 4 }),
  maxAcquireAttempts: fc.option(fc.integer({ min: 2, max: 40 }), { nil: undefined, freq: 6 }),
  holdFor: fc.integer({ min: 0, max: 2 }),
})

describe('the memory protocol at depth', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], loopLimit: 1_000_000 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('serves hundreds to thousands of queued waiters in rank order through random timeouts and aborts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(waiterArb, { minLength: 200, maxLength: 2500 }), async (specs) => {
        const protocol = memoryProtocol()
        const start = Date.now()
        const violations: string[] = []
        // The protocol's queues as its events tell them: per resource, waiters in arrival order.
        const queued = new Map<string, { guid: string; priority: number }[]>(RESOURCES.map((r) => [r, []]))
        const holders = new Map<string, string>()
        const leave = (resource: string, guid: string) => {
          const queue = queued.get(resource)!
          const index = queue.findIndex((w) => w.guid === guid)
          if (index >= 0) queue.splice(index, 1)
          return index >= 0 ? queue.slice(0, index) : undefined
        }
        protocol.on((event) => {
          const { resource, lockerGuid: guid } = event
          if (event.type === 'waiting') queued.get(resource)!.push({ guid, priority: event.priority })
          else if (event.type === 'gave-up') leave(resource, guid)
          else if (event.type === 'acquired') {
            const ahead = leave(resource, guid) ?? []
            const passed = ahead.find((w) => w.priority >= event.priority)
            if (passed) violations.push(`${guid} (${event.priority}) passed ${passed.guid} (${passed.priority})`)
            if (holders.has(resource)) violations.push(`${guid} got ${resource} held by ${holders.get(resource)}`)
            holders.set(resource, guid)
          } else if (holders.get(resource) === guid) holders.delete(resource)
        })

        const holder = protocol.acquire({
          resources: [...RESOURCES],
          lockerGuid: 'holder',
          priority: 10,
          lockTtl: Infinity,
          acquireTimeout: Infinity,
          maxAcquireAttempts: Infinity,
        }) as Lease
        const outcomes = specs.map((spec, index) => {
          const controller = new AbortController()
          if (spec.abortAfter !== undefined) setTimeout(() => controller.abort(), spec.abortAfter)
          const granted = protocol.acquire({
            resources: spec.resources,
            lockerGuid: `w${index}`,
            priority: spec.priority,
            lockTtl: Infinity,
            acquireTimeout: spec.acquireTimeout ?? Infinity,
            maxAcquireAttempts: spec.maxAcquireAttempts ?? Infinity,
            signal: controller.signal,
          })
          return Promise.resolve(granted).then(
            async (lease) => {
              const at = Date.now() - start
              if (spec.holdFor > 0) await new Promise((resolve) => setTimeout(resolve, spec.holdFor))
              await lease.release()
              return { code: 'granted', at }
            },
            (error: unknown) => ({ code: (error as LockError).code, at: Date.now() - start }),
          )
        })
        setTimeout(() => void holder.release(), 1)
        await vi.runAllTimersAsync()
        const results = await Promise.all(outcomes)

        results.forEach(({ code, at }, index) => {
          const spec = specs[index]!
          const timeout = spec.acquireTimeout ?? Infinity
          const abort = spec.abortAfter ?? Infinity
          const ok =
            code === 'granted'
              ? at <= timeout && at <= abort
              : code === 'ACQUIRE_TIMEOUT'
                ? at === timeout && at <= abort
                : code === 'CANCELLED'
                  ? at === abort && at <= timeout
                  : code === 'ALREADY_LOCKED' && spec.maxAcquireAttempts !== undefined
          if (!ok) violations.push(`waiter ${index} ${JSON.stringify(spec)} ended ${code} at ${at} ms`)
        })
        expect(violations.slice(0, 5)).toEqual([])
        for (const queue of queued.values()) expect(queue).toEqual([])
        expect(protocol.idle, JSON.stringify(protocol.snapshot())).toBe(true)
        expect(vi.getTimerCount()).toBe(0)
      }),
      { numRuns: 20 },
    )
  })
})

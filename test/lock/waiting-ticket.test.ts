/**
 * A protocol with `acquireFor` hands a waiting request's receiver a ticket that withdraws it, so the core sends no
 * signal, and a transaction on its locker's options shares the locker's request: at a queue 10,000 deep, what each
 * waiting transaction holds is what the garbage collector copies.
 */
import { describe, expect, it } from 'vitest'
import genLock, {
  memoryProtocol,
  type AcquireReceiver,
  type AcquireRequest,
  type Lease,
  type LockEvent,
  type LockingProtocol,
  type WaitingTicket,
} from '../../src/index.js'
import { deferred, holdLock } from './helpers.js'

const request = (lockerGuid: string, priority = 0): AcquireRequest => ({
  resources: ['bulb'],
  lockerGuid,
  priority,
  lockTtl: Infinity,
  acquireTimeout: Infinity,
  maxAcquireAttempts: Infinity,
})

/** A receiver that records what it is told. */
function recorder() {
  const told: string[] = []
  const granted = deferred<Lease>()
  const refused = deferred<unknown>()
  let ticket: WaitingTicket | undefined
  const receiver: AcquireReceiver = {
    granted: (lease) => (told.push('granted'), granted.resolve(lease)),
    refused: (error) => (told.push('refused'), refused.resolve(error)),
    waiting: (t) => (told.push('waiting'), (ticket = t)),
  }
  return { receiver, told, granted: granted.promise, refused: refused.promise, ticket: () => ticket! }
}

describe("the memory protocol, a waiting request's ticket", () => {
  it('is handed over at once when the request has to wait, and not when it is granted', () => {
    const protocol = memoryProtocol()
    const first = recorder()
    const held = protocol.acquireFor(request('holder'), first.receiver)
    expect(held?.valid).toBe(true)
    expect(first.told).toEqual([])
    const second = recorder()
    expect(protocol.acquireFor(request('waiter'), second.receiver)).toBeUndefined()
    expect(second.told).toEqual(['waiting'])
  })

  it('withdraws the request: refused with CANCELLED, gave-up emitted, and the next waiter served', async () => {
    const protocol = memoryProtocol()
    const events: LockEvent[] = []
    protocol.on((event) => events.push(event))
    const holder = protocol.acquireFor(request('holder', 10), recorder().receiver)!
    const withdrawn = recorder()
    const next = recorder()
    protocol.acquireFor(request('withdrawn', 5), withdrawn.receiver)
    protocol.acquireFor(request('next', 1), next.receiver)
    withdrawn.ticket().withdraw()
    withdrawn.ticket().withdraw() // a second time does nothing
    expect(await withdrawn.refused).toMatchObject({ code: 'CANCELLED' })
    expect(events.filter((e) => e.type === 'gave-up')).toEqual([
      expect.objectContaining({ lockerGuid: 'withdrawn', reason: 'CANCELLED' }),
    ])
    holder.release()
    expect((await next.granted).lockerGuid).toBe('next')
    expect(withdrawn.told).toEqual(['waiting', 'refused'])
  })

  it('does nothing once the request was granted, though the receiver has not been told yet', async () => {
    const protocol = memoryProtocol()
    const holder = protocol.acquireFor(request('holder'), recorder().receiver)!
    const waiter = recorder()
    protocol.acquireFor(request('waiter'), waiter.receiver)
    holder.release() // decided now, told a microtask later
    waiter.ticket().withdraw()
    const lease = await waiter.granted
    expect(lease.valid).toBe(true)
    expect(waiter.told).toEqual(['waiting', 'granted'])
    lease.release()
    expect(protocol.idle).toBe(true)
  })
})

describe('the core, with a protocol that has acquireFor', () => {
  /** The memory protocol, recording every request the core sends it. */
  function recording(): { protocol: LockingProtocol; sent: AcquireRequest[] } {
    const inner = memoryProtocol()
    const sent: AcquireRequest[] = []
    const protocol: LockingProtocol = {
      acquire: (r) => inner.acquire(r),
      acquireFor: (r, receiver) => (sent.push(r), inner.acquireFor(r, receiver)),
      on: (listener) => inner.on(listener),
      close: () => inner.close(),
    }
    return { protocol, sent }
  }

  it("sends no signal, and one request for every transaction on its locker's options", async () => {
    const { protocol, sent } = recording()
    const locker = genLock({}, protocol).newLocker('bulb', null, { priority: 2 })
    await locker.promise(function* () {})
    await locker.promise(function* () {})
    await locker.promise(function* () {}, { priority: 7 })
    expect(sent).toHaveLength(3)
    expect(sent[1]).toBe(sent[0])
    expect(sent[0]).toMatchObject({ priority: 2 })
    expect(sent[2]).toMatchObject({ priority: 7 })
    for (const r of sent) expect(r.signal).toBeUndefined()
  })

  it('withdraws a cancelled waiting transaction with its ticket', async () => {
    const { protocol } = recording()
    const events: LockEvent[] = []
    protocol.on((event) => events.push(event))
    const lock = genLock({}, protocol)
    const { release, holding } = await holdLock(lock, 'bulb')
    const waiting = lock.newLocker('bulb', null).promise(function* () {
      return 'should not run'
    })
    waiting.cancel()
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' })
    expect(events.filter((e) => e.type === 'gave-up')).toEqual([expect.objectContaining({ reason: 'CANCELLED' })])
    release.resolve()
    await holding
  })

  it('withdraws a transaction aborted by a listener of its own waiting event', async () => {
    const { protocol } = recording()
    const events: LockEvent[] = []
    protocol.on((event) => events.push(event))
    const lock = genLock({}, protocol)
    const { release, holding } = await holdLock(lock, 'bulb', { priority: 9 })
    const locker = lock.newLocker('bulb', null, { priority: 5 })
    const controller = new AbortController()
    protocol.on((event) => {
      if (event.type === 'waiting' && event.lockerGuid === locker.lockerGuid) controller.abort('changed my mind')
    })
    const aborted = locker.promise(
      function* () {
        return 'should not run'
      },
      { signal: controller.signal },
    )
    await expect(aborted).rejects.toMatchObject({ code: 'CANCELLED' })
    release.resolve()
    await holding
    const mine = events.filter((e) => e.lockerGuid === locker.lockerGuid).map((e) => e.type)
    // Left in the queue, it would have been granted (and released at once) when the holder let go.
    expect(mine).toEqual(['waiting', 'gave-up'])
  })
})

import { describe, expect, it } from 'vitest'
import genLock, { memoryProtocol, type Lease } from '../../src/index.js'
import { deferred, uniqueResource } from './helpers.js'
import { describeProtocolContract } from './protocol-contract.js'

describeProtocolContract('memory', async () => {
  const protocol = memoryProtocol()
  return {
    protocol,
    revoke: (resource) => protocol.revoke(resource),
    async teardown() {
      if (!protocol.idle) throw new Error(`locks left behind: ${JSON.stringify(protocol.snapshot())}`)
      await protocol.close()
    },
  }
})

describe('memory protocol: one locker holding through several leases', () => {
  it('shows every lease and the highest priority, and lowers it when the highest goes', async () => {
    const protocol = memoryProtocol()
    const lock = genLock({}, protocol)
    const resource = uniqueResource('co-held')
    const high = lock.newLocker(resource, null, { priority: 5 }, 'group')
    const low = lock.newLocker(resource, null, { priority: 1 }, 'group')
    const releaseHigh = deferred()
    const holding = [deferred(), deferred()]
    const first = high.promise(function* () {
      holding[0]!.resolve()
      yield releaseHigh.promise
    })
    await holding[0]!.promise
    const second = low.promise(function* () {
      holding[1]!.resolve()
      yield new Promise(() => {}) // holds until preempted
    })
    await holding[1]!.promise
    expect(protocol.snapshot(resource)[0]!.holder).toEqual({ lockerGuid: 'group', priority: 5, leases: 2 })

    releaseHigh.resolve()
    await first
    expect(protocol.snapshot(resource)[0]!.holder).toEqual({ lockerGuid: 'group', priority: 1, leases: 1 })

    // Priority 3 now outranks what holds the resource: it preempts the lease left.
    const other = lock.newLocker(resource, null, { priority: 3 })
    const ran = other.promise(function* () {
      return 'ran'
    })
    await expect(second).rejects.toMatchObject({ code: 'PREEMPTED' })
    await expect(ran).resolves.toBe('ran')
    expect(protocol.idle).toBe(true)
    await protocol.close()
  })
})

describe('memory protocol: event listeners that act on the protocol', () => {
  const request = (lockerGuid: string, resources: string[], priority = 0) => ({
    resources,
    lockerGuid,
    priority,
    lockTtl: Infinity,
    acquireTimeout: Infinity,
    maxAcquireAttempts: Infinity,
  })

  it('hands on a lock a listener frees during a preemption only after the preempting grant has its resources', async () => {
    const protocol = memoryProtocol()
    const held = protocol.acquire(request('x', ['b'])) as Lease
    const unrelated = protocol.acquire(request('q', ['c'])) as Lease
    const waiting = protocol.acquire(request('y', ['b']))
    expect(waiting).toBeInstanceOf(Promise)
    // A release from inside the preemption's event: the pump it causes must not give b to y, whom z outranks.
    protocol.on((event) => {
      if (event.type === 'preempted') void unrelated.release()
    })
    const preempting = protocol.acquire(request('z', ['a', 'b'], 1)) as Lease
    expect(held.valid).toBe(false)
    expect(unrelated.valid).toBe(false)
    const [b] = protocol.snapshot('b')
    expect(b!.holder).toEqual({ lockerGuid: 'z', priority: 1, leases: 1 })
    expect(b!.waiting).toEqual([{ lockerGuid: 'y', priority: 0 }])
    void preempting.release()
    const granted = await waiting
    expect(granted.valid).toBe(true)
    void granted.release()
    expect(protocol.idle).toBe(true)
    await protocol.close()
  })

  it('makes a request a listener sends during a preemption wait behind the preempting grant', async () => {
    const protocol = memoryProtocol()
    const held = protocol.acquire(request('x', ['b'])) as Lease
    let sent: Lease | Promise<Lease> | undefined
    // Sent while z takes b from x: b must already be z's, not free for w to take beside it.
    protocol.on((event) => {
      if (event.type === 'preempted' && !sent) sent = protocol.acquire(request('w', ['b']))
    })
    const preempting = protocol.acquire(request('z', ['a', 'b'], 1)) as Lease
    expect(held.valid).toBe(false)
    expect(sent).toBeInstanceOf(Promise)
    const [b] = protocol.snapshot('b')
    expect(b!.holder).toEqual({ lockerGuid: 'z', priority: 1, leases: 1 })
    expect(b!.waiting).toEqual([{ lockerGuid: 'w', priority: 0 }])
    void preempting.release()
    const granted = await sent!
    expect(granted.valid).toBe(true)
    void granted.release()
    expect(protocol.idle).toBe(true)
    await protocol.close()
  })
})

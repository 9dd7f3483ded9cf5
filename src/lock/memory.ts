import { LockError, type LockErrorCode } from './errors.js'
import type { AcquireRequest, Lease, LockEventListener, LockingProtocol } from './protocol.js'
import { EventFanout } from './events.js'

/** Calls `callback` once `ms` have passed; returns the cancel function. An automation Clock is one. */
export interface LockTimer {
  after(ms: number, callback: () => void): () => void
}

const realTimer: LockTimer = {
  after(ms, callback) {
    const timer = setTimeout(callback, ms)
    return () => clearTimeout(timer)
  },
}

interface Waiter {
  readonly request: AcquireRequest
  readonly seq: number
  attempts: number
  resolve(lease: Lease): void
  reject(error: LockError): void
  /** Cancels the acquire timeout. */
  timer: (() => void) | undefined
  onAbort: (() => void) | undefined
}

interface Hold {
  readonly lockerGuid: string
  readonly leases: MemoryLease[]
  priority: number
}

interface Slot {
  hold: Hold | undefined
  /** Sorted: highest priority first, then first come first served. */
  readonly queue: Waiter[]
}

/** What one resource's lock looks like right now (for tests, logs and Home Assistant state). */
export interface ResourceSnapshot {
  readonly resource: string
  readonly holder: { lockerGuid: string; priority: number; leases: number } | undefined
  readonly waiting: readonly { lockerGuid: string; priority: number }[]
}

class MemoryLease implements Lease {
  valid = true
  lossReason: LockError | undefined
  /** Cancels the ttl timer. */
  ttlTimer: (() => void) | undefined
  private lostListeners: ((error: LockError) => unknown)[] | undefined
  private tokenRecord: Record<string, number> | undefined

  constructor(
    private readonly protocol: MemoryProtocol,
    readonly resources: readonly string[],
    readonly lockerGuid: string,
    readonly priority: number,
    /** The memory protocol's tokens come from one counter, so a lease has the same token on every resource. */
    readonly token: number,
  ) {}

  get tokens(): Readonly<Record<string, number>> {
    if (!this.tokenRecord) {
      this.tokenRecord = {}
      for (const resource of this.resources) this.tokenRecord[resource] = this.token
    }
    return this.tokenRecord
  }

  onLost(listener: (error: LockError) => unknown): void {
    if (this.lossReason) {
      const reason = this.lossReason
      queueMicrotask(() => listener(reason))
    } else if (this.valid) {
      ;(this.lostListeners ??= []).push(listener)
    }
  }

  release(): void {
    this.protocol.releaseLease(this)
  }

  /** Called by the protocol after it has marked the lease lost. */
  notifyLost(error: LockError): void {
    this.lossReason = error
    const listeners = this.lostListeners
    this.lostListeners = undefined
    // Listeners run user code (recovery handlers); never run it from inside a protocol decision.
    if (listeners) queueMicrotask(() => listeners.forEach((listener) => listener(error)))
  }
}

/**
 * The in-memory protocol: locks scoped to this JavaScript runtime. Decisions are synchronous and
 * event-driven: a release hands the lock straight to the next waiter, nothing ever polls.
 *
 * @example
 * const protocol = memoryProtocol()
 * protocol.on((event) => log.debug(event))
 * const { newLocker } = genLock({}, protocol)
 */
export class MemoryProtocol implements LockingProtocol {
  private readonly slots = new Map<string, Slot>()
  private readonly events = new EventFanout()
  private readonly dirty = new Set<string>()
  private pumping = false
  private seq = 0
  /**
   * One counter for every resource: tokens then only grow per resource even after an idle resource's
   * bookkeeping is dropped (a per-resource counter would restart at 1 and let a stale holder look current).
   */
  private lastToken = 0
  /** Waiters with a finite maxAcquireAttempts; when none, grants skip counting lost chances. */
  private limitedWaiters = 0
  private closed = false

  /** `timer`: where ttl and acquire timeouts are counted; real timers unless a simulation passes its clock. */
  constructor(private readonly timer: LockTimer = realTimer) {}

  on(listener: LockEventListener): () => void {
    return this.events.add(listener)
  }

  acquire(request: AcquireRequest): Lease | Promise<Lease> {
    if (request.resources.length === 0) throw new TypeError('acquire needs at least one resource')
    if (this.closed) return Promise.reject(this.error('LOST', 'the locking protocol is closed', request))
    if (request.signal?.aborted) return Promise.reject(this.error('CANCELLED', 'acquire aborted', request))
    if (this.grantable(request, undefined)) {
      const lease = this.grant(request)
      this.pump() // a preempted composite holder may have freed other resources
      return lease
    }
    if (request.maxAcquireAttempts <= 1) {
      this.events.emitForRequest('gave-up', request, 'ALREADY_LOCKED')
      return Promise.reject(this.error('ALREADY_LOCKED', 'locked by another holder', request))
    }
    if (request.acquireTimeout <= 0) {
      this.events.emitForRequest('gave-up', request, 'ACQUIRE_TIMEOUT')
      return Promise.reject(this.error('ACQUIRE_TIMEOUT', 'not granted within 0 ms', request))
    }
    return this.enqueue(request)
  }

  /** Takes every lease on `resource` away (code `LOST`): an operator's "unlock", and how tests lose locks. */
  revoke(resource: string): void {
    const hold = this.slots.get(resource)?.hold
    if (!hold) return
    for (const lease of [...hold.leases]) this.lose(lease, 'LOST', `lock on ${resource} was revoked`)
    this.pump()
  }

  snapshot(resource?: string): ResourceSnapshot[] {
    const names = resource === undefined ? [...this.slots.keys()] : [resource]
    return names.map((name) => {
      const slot = this.slots.get(name)
      const hold = slot?.hold
      return {
        resource: name,
        holder: hold && { lockerGuid: hold.lockerGuid, priority: hold.priority, leases: hold.leases.length },
        waiting: (slot?.queue ?? []).map((w) => ({ lockerGuid: w.request.lockerGuid, priority: w.request.priority })),
      }
    })
  }

  /** True when nothing is held or waited for. */
  get idle(): boolean {
    for (const slot of this.slots.values()) if (slot.hold || slot.queue.length > 0) return false
    return true
  }

  async close(): Promise<void> {
    this.closed = true
    for (const slot of this.slots.values()) {
      for (const waiter of [...slot.queue]) this.dropWaiter(waiter, 'LOST', 'the locking protocol closed')
      for (const lease of [...(slot.hold?.leases ?? [])]) this.lose(lease, 'LOST', 'the locking protocol closed')
    }
    this.dirty.clear()
  }

  releaseLease(lease: MemoryLease): void {
    if (!lease.valid) return
    this.detach(lease)
    this.events.emitForLease('released', lease)
    this.pump()
  }

  private slot(resource: string): Slot {
    let slot = this.slots.get(resource)
    if (!slot) {
      slot = { hold: undefined, queue: [] }
      this.slots.set(resource, slot)
    }
    return slot
  }

  /**
   * Can `request` have all its resources now? A waiter may not pass one ranked ahead of it on any resource,
   * so a composite request is never starved by single ones slipping in (and nothing deadlocks: the
   * best-ranked waiter is first on every queue it is in).
   */
  private grantable(request: AcquireRequest, waiter: Waiter | undefined): boolean {
    for (const resource of request.resources) {
      const slot = this.slots.get(resource)
      if (!slot) continue
      const hold = slot.hold
      if (hold && hold.lockerGuid === request.lockerGuid) continue
      const first = slot.queue[0]
      if (first !== undefined && first !== waiter) {
        // A new request ranks after every waiter of the same or higher priority.
        if (waiter !== undefined || first.request.priority >= request.priority) return false
      }
      if (hold && !(request.priority > hold.priority)) return false
    }
    return true
  }

  private grant(request: AcquireRequest): MemoryLease {
    let preempted: MemoryLease[] | undefined
    for (const resource of request.resources) {
      const hold = this.slots.get(resource)?.hold
      if (hold && hold.lockerGuid !== request.lockerGuid) (preempted ??= []).push(...hold.leases)
    }
    if (preempted) {
      const by = { lockerGuid: request.lockerGuid, priority: request.priority }
      for (const victim of new Set(preempted)) {
        if (victim.valid) this.lose(victim, 'PREEMPTED', `preempted by priority ${request.priority}`, by)
      }
    }
    const lease = new MemoryLease(this, request.resources, request.lockerGuid, request.priority, ++this.lastToken)
    for (const resource of request.resources) {
      const slot = this.slot(resource)
      if (slot.hold) {
        slot.hold.leases.push(lease)
        if (request.priority > slot.hold.priority) slot.hold.priority = request.priority
      } else {
        slot.hold = { lockerGuid: request.lockerGuid, leases: [lease], priority: request.priority }
      }
      this.countLostChances(slot, request.lockerGuid)
    }
    if (request.lockTtl !== Infinity) {
      lease.ttlTimer = this.timer.after(request.lockTtl, () => {
        if (!lease.valid) return
        this.lose(lease, 'EXPIRED', `lockTtl of ${request.lockTtl} ms reached`)
        this.pump()
      })
    }
    this.events.emitForLease('acquired', lease)
    return lease
  }

  /** Every waiter that just watched the lock go to someone else has used one more attempt. */
  private countLostChances(slot: Slot, winner: string): void {
    if (this.limitedWaiters === 0 || slot.queue.length === 0) return
    for (const waiter of [...slot.queue]) {
      if (waiter.request.lockerGuid === winner || waiter.request.maxAcquireAttempts === Infinity) continue
      if (++waiter.attempts >= waiter.request.maxAcquireAttempts) {
        this.dropWaiter(waiter, 'ALREADY_LOCKED', `gave up after ${waiter.attempts} attempts`)
      }
    }
  }

  private enqueue(request: AcquireRequest): Promise<Lease> {
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = {
        request,
        seq: this.seq++,
        attempts: 1,
        resolve,
        reject,
        timer: undefined,
        onAbort: undefined,
      }
      for (const resource of request.resources) {
        const queue = this.slot(resource).queue
        let index = queue.length
        while (index > 0 && queue[index - 1]!.request.priority < request.priority) index--
        queue.splice(index, 0, waiter)
      }
      if (request.maxAcquireAttempts !== Infinity) this.limitedWaiters++
      if (request.acquireTimeout !== Infinity) {
        waiter.timer = this.timer.after(request.acquireTimeout, () => {
          this.dropWaiter(waiter, 'ACQUIRE_TIMEOUT', `not granted within ${request.acquireTimeout} ms`)
          this.pump()
        })
      }
      if (request.signal) {
        waiter.onAbort = () => {
          this.dropWaiter(waiter, 'CANCELLED', 'acquire aborted')
          this.pump()
        }
        request.signal.addEventListener('abort', waiter.onAbort, { once: true })
      }
      this.events.emitForRequest('waiting', request)
    })
  }

  /** Takes a waiter out of every queue; it stops blocking whoever ranked after it. */
  private unqueue(waiter: Waiter): void {
    for (const resource of waiter.request.resources) {
      const queue = this.slots.get(resource)?.queue
      const index = queue?.indexOf(waiter) ?? -1
      if (index >= 0) queue!.splice(index, 1)
      this.dirty.add(resource)
    }
    if (waiter.request.maxAcquireAttempts !== Infinity) this.limitedWaiters--
    waiter.timer?.()
    if (waiter.onAbort) waiter.request.signal?.removeEventListener('abort', waiter.onAbort)
  }

  private dropWaiter(waiter: Waiter, code: LockErrorCode, message: string): void {
    this.unqueue(waiter)
    this.events.emitForRequest('gave-up', waiter.request, code)
    waiter.reject(this.error(code, message, waiter.request))
  }

  /** Marks a lease lost and frees its resources; the caller pumps. */
  private lose(
    lease: MemoryLease,
    code: LockErrorCode,
    message: string,
    by?: { lockerGuid: string; priority: number },
  ): void {
    this.detach(lease)
    const type = code === 'PREEMPTED' ? 'preempted' : code === 'EXPIRED' ? 'expired' : 'lost'
    this.events.emitForLease(type, lease, by)
    lease.notifyLost(new LockError(code, `${lease.resources.join(', ')}: ${message}`, lease.resources))
  }

  private detach(lease: MemoryLease): void {
    lease.valid = false
    lease.ttlTimer?.()
    for (const resource of lease.resources) {
      const slot = this.slots.get(resource)
      const hold = slot?.hold
      const index = hold?.leases.indexOf(lease) ?? -1
      if (!slot || !hold || index < 0) continue
      hold.leases.splice(index, 1)
      if (hold.leases.length === 0) slot.hold = undefined
      else hold.priority = Math.max(...hold.leases.map((l) => l.priority))
      this.dirty.add(resource)
    }
  }

  /** Hands freed resources to their waiters, best ranked first. */
  private pump(): void {
    if (this.pumping) return
    this.pumping = true
    try {
      // A Set's iteration also visits entries added while it runs, so resources freed by grants made
      // here are pumped in the same pass.
      for (const resource of this.dirty) {
        this.dirty.delete(resource)
        const slot = this.slots.get(resource)
        if (!slot) continue
        while (slot.queue.length > 0) {
          const waiter = slot.queue[0]!
          if (!this.grantable(waiter.request, waiter)) break
          this.unqueue(waiter)
          waiter.resolve(this.grant(waiter.request))
        }
        if (!slot.hold && slot.queue.length === 0) this.slots.delete(resource)
      }
    } finally {
      this.pumping = false
    }
  }

  private error(code: LockErrorCode, message: string, request: AcquireRequest): LockError {
    return new LockError(code, `${request.resources.join(', ')}: ${message}`, request.resources)
  }
}

/** Creates the in-memory protocol (the default); `timer` as for {@link MemoryProtocol}'s constructor. */
export function memoryProtocol(timer?: LockTimer): MemoryProtocol {
  return new MemoryProtocol(timer)
}

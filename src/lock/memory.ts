import type { LockError, LockErrorCode } from './errors.js'
import { LeaseBase } from './lease-base.js'
import type { LockLogger } from './logger.js'
import type { AcquireReceiver, AcquireRequest, Lease, LockingProtocol, WaitingTicket } from './protocol.js'
import { ProtocolBase } from './protocol-base.js'
import { WaiterQueue, type Bucket, type QueueEntry } from './waiter-queue.js'

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

/**
 * A request waiting in its resources' queues; also the ticket its receiver withdraws it with, and its own place in
 * its first resource's queue (one object per waiting request rather than two).
 */
class Waiter implements WaitingTicket, QueueEntry<Waiter> {
  bucket: Bucket<Waiter> | undefined = undefined
  prev: QueueEntry<Waiter> | undefined = undefined
  next: QueueEntry<Waiter> | undefined = undefined
  /**
   * A composite request's places in the other resources' queues, in the order of request.resources. Most requests
   * are for one resource, and a queue 10,000 deep would otherwise keep an array (two objects) alive per waiter.
   */
  readonly more: QueueEntry<Waiter>[] | undefined
  attempts = 1
  /** Cancels the acquire timeout. */
  timer: (() => void) | undefined = undefined
  onAbort: (() => void) | undefined = undefined

  constructor(
    private readonly protocol: MemoryProtocol,
    readonly request: AcquireRequest,
    readonly receiver: AcquireReceiver,
  ) {
    const count = request.resources.length
    // Sized up front: a pushed-to empty array reserves room for 16.
    this.more = count > 1 ? new Array<QueueEntry<Waiter>>(count - 1) : undefined
  }

  get value(): Waiter {
    return this
  }

  get priority(): number {
    return this.request.priority
  }

  /** False once granted, refused or withdrawn: its receiver may still hold the ticket until it is told. */
  get queued(): boolean {
    return this.bucket !== undefined
  }

  withdraw(): void {
    this.protocol.withdrawWaiter(this)
  }
}

/**
 * One resource's lock. Who holds it is kept in the slot itself, not in an object per grant: the usual holder is one
 * lease, and a record with an array of one per grant was ~100 bytes per transaction for the garbage collector.
 */
interface Slot {
  /** The lease holding the resource; undefined while it is free. */
  holder: MemoryLease | undefined
  /** More leases of the holder's locker held at the same time (its transactions share the lock); rare. */
  coHolders: MemoryLease[] | undefined
  /** The highest priority among the holding leases. */
  holdPriority: number
  /** Highest priority first, then first come first served. */
  readonly queue: WaiterQueue<Waiter>
  /** The queued waiters with a finite maxAcquireAttempts: only they count lost chances. */
  limited: Set<Waiter> | undefined
}

const ONCE = Object.freeze({ once: true })

/** What one resource's lock looks like right now (for tests, logs and Home Assistant state). */
export interface ResourceSnapshot {
  readonly resource: string
  readonly holder: { lockerGuid: string; priority: number; leases: number } | undefined
  readonly waiting: readonly { lockerGuid: string; priority: number }[]
}

class MemoryLease extends LeaseBase {
  /** Cancels the ttl timer. */
  ttlTimer: (() => void) | undefined
  private tokenRecord: Record<string, number> | undefined

  constructor(
    private readonly protocol: MemoryProtocol,
    resources: readonly string[],
    lockerGuid: string,
    priority: number,
    /** The memory protocol's tokens come from one counter, so a lease has the same token on every resource. */
    readonly token: number,
    logger: LockLogger,
  ) {
    super(resources, lockerGuid, priority, logger)
  }

  get valid(): boolean {
    return this.live
  }

  get tokens(): Readonly<Record<string, number>> {
    if (!this.tokenRecord) {
      this.tokenRecord = {}
      for (const resource of this.resources) this.tokenRecord[resource] = this.token
    }
    return this.tokenRecord
  }

  release(): void {
    this.protocol.releaseLease(this)
  }
}

/** Options of the in-memory protocol. */
export interface MemoryProtocolOptions {
  /** Where a throwing event or lease-loss listener is reported (default: stderr). */
  logger?: LockLogger
  /** Where ttl and acquire timeouts are counted; real timers unless a simulation passes its clock. */
  timer?: LockTimer
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
export class MemoryProtocol extends ProtocolBase<MemoryLease> implements LockingProtocol {
  private readonly slots = new Map<string, Slot>()
  /**
   * Resources freed since the last pump: `dirty[0..dirtyCount)`, in order. One array reused rather than a Set: a Set
   * emptied and filled again on every release reallocates its table each time. A resource may be listed twice;
   * pumping it again finds nothing to do.
   */
  private readonly dirty: string[] = []
  private dirtyCount = 0
  private pumping = false
  /**
   * One counter for every resource: tokens then only grow per resource even after an idle resource's
   * bookkeeping is dropped (a per-resource counter would restart at 1 and let a stale holder look current).
   */
  private lastToken = 0

  private readonly timer: LockTimer

  /** A LockTimer alone is the same as `{ timer }`. */
  constructor(options: MemoryProtocolOptions | LockTimer = {}) {
    const resolved: MemoryProtocolOptions = isLockTimer(options) ? { timer: options } : options
    super(resolved.logger)
    this.timer = resolved.timer ?? realTimer
  }

  acquire(request: AcquireRequest): Lease | Promise<Lease> {
    let receiver!: AcquireReceiver
    const pending = new Promise<Lease>((granted, refused) => (receiver = { granted, refused }))
    return this.acquireFor(request, receiver) ?? pending
  }

  acquireFor(request: AcquireRequest, receiver: AcquireReceiver): Lease | undefined {
    const refused = this.refuse(request)
    if (refused) {
      refused.catch((error: unknown) => receiver.refused(error))
      return undefined
    }
    if (this.grantable(request, undefined)) {
      const lease = this.grant(request)
      this.pump() // a preempted composite holder may have freed other resources
      return lease
    }
    if (request.maxAcquireAttempts <= 1) {
      this.events.emitForRequest('gave-up', request, 'ALREADY_LOCKED')
      refuseLater(receiver, this.error('ALREADY_LOCKED', 'locked by another holder', request))
    } else if (request.acquireTimeout <= 0) {
      this.events.emitForRequest('gave-up', request, 'ACQUIRE_TIMEOUT')
      refuseLater(receiver, this.error('ACQUIRE_TIMEOUT', 'not granted within 0 ms', request))
    } else {
      this.enqueue(request, receiver)
    }
    return undefined
  }

  /** Takes every lease on `resource` away (code `LOST`): an operator's "unlock", and how tests lose locks. */
  revoke(resource: string): void {
    const slot = this.slots.get(resource)
    if (!slot?.holder) return
    for (const lease of holdersOf(slot)) this.lose(lease, 'LOST', `lock on ${resource} was revoked`)
    this.pump()
  }

  snapshot(resource?: string): ResourceSnapshot[] {
    const names = resource === undefined ? [...this.slots.keys()] : [resource]
    return names.map((name) => {
      const slot = this.slots.get(name)
      const holder = slot?.holder
      return {
        resource: name,
        holder: holder && {
          lockerGuid: holder.lockerGuid,
          priority: slot!.holdPriority,
          leases: 1 + (slot!.coHolders?.length ?? 0),
        },
        waiting: [...(slot?.queue ?? [])].map((w) => ({
          lockerGuid: w.request.lockerGuid,
          priority: w.request.priority,
        })),
      }
    })
  }

  /** True when nothing is held or waited for. */
  get idle(): boolean {
    for (const slot of this.slots.values()) if (slot.holder || slot.queue.size > 0) return false
    return true
  }

  async close(): Promise<void> {
    this.closed = true
    for (const slot of this.slots.values()) {
      for (const waiter of [...slot.queue]) this.dropWaiter(waiter, 'LOST', 'the locking protocol closed')
      for (const lease of holdersOf(slot)) this.lose(lease, 'LOST', 'the locking protocol closed')
    }
    this.dirtyCount = 0
  }

  releaseLease(lease: MemoryLease): void {
    if (this.markReleased(lease)) this.pump()
  }

  private slot(resource: string): Slot {
    let slot = this.slots.get(resource)
    if (!slot) {
      slot = { holder: undefined, coHolders: undefined, holdPriority: 0, queue: new WaiterQueue(), limited: undefined }
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
      const holder = slot.holder
      if (holder && holder.lockerGuid === request.lockerGuid) continue
      const first = slot.queue.first()
      if (first !== undefined && first !== waiter) {
        // A new request ranks after every waiter of the same or higher priority.
        if (waiter !== undefined || first.request.priority >= request.priority) return false
      }
      if (holder && !(request.priority > slot.holdPriority)) return false
    }
    return true
  }

  /**
   * Gives `request` its resources, preempting whoever holds them. The bookkeeping is done before any event goes out:
   * a listener (user code) that acquires, releases or cancels from an event then finds every resource held by the
   * new lease, never one freed half-way, which it could take for itself beside the new holder.
   */
  private grant(request: AcquireRequest): MemoryLease {
    // Once each: a composite holder holds several of the resources. A holder in a slot is live (detach takes it out).
    let victims: Set<MemoryLease> | undefined
    for (const resource of request.resources) {
      const slot = this.slots.get(resource)
      if (!slot?.holder || slot.holder.lockerGuid === request.lockerGuid) continue
      for (const victim of holdersOf(slot)) (victims ??= new Set()).add(victim)
    }
    if (victims) for (const victim of victims) this.detach(victim)
    const lease = new MemoryLease(
      this,
      request.resources,
      request.lockerGuid,
      request.priority,
      ++this.lastToken,
      this.logger,
    )
    for (const resource of request.resources) {
      const slot = this.slot(resource)
      if (slot.holder) {
        ;(slot.coHolders ??= []).push(lease)
        if (request.priority > slot.holdPriority) slot.holdPriority = request.priority
      } else {
        slot.holder = lease
        slot.holdPriority = request.priority
      }
    }
    if (victims) {
      const by = { lockerGuid: request.lockerGuid, priority: request.priority }
      for (const victim of victims)
        this.announceLoss(victim, 'PREEMPTED', `preempted by priority ${request.priority}`, by)
    }
    for (const resource of request.resources) {
      const slot = this.slots.get(resource)
      if (slot) this.countLostChances(slot, request.lockerGuid)
    }
    if (request.lockTtl !== Infinity && lease.live) {
      lease.ttlTimer = this.timer.after(request.lockTtl, () => {
        if (this.lose(lease, 'EXPIRED', `lockTtl of ${request.lockTtl} ms reached`)) this.pump()
      })
    }
    this.events.emitForLease('acquired', lease)
    return lease
  }

  /** Every waiter that just watched the lock go to someone else has used one more attempt. */
  private countLostChances(slot: Slot, winner: string): void {
    if (!slot.limited) return
    for (const waiter of [...slot.limited]) {
      if (waiter.request.lockerGuid === winner) continue
      if (++waiter.attempts >= waiter.request.maxAcquireAttempts) {
        this.dropWaiter(waiter, 'ALREADY_LOCKED', `gave up after ${waiter.attempts} attempts`)
      }
    }
  }

  private enqueue(request: AcquireRequest, receiver: AcquireReceiver): void {
    const resources = request.resources
    const waiter = new Waiter(this, request, receiver)
    const limited = request.maxAcquireAttempts !== Infinity
    for (let i = 0; i < resources.length; i++) {
      const slot = this.slot(resources[i]!)
      if (i === 0) slot.queue.link(waiter)
      else waiter.more![i - 1] = slot.queue.push(waiter, request.priority)
      if (limited) (slot.limited ??= new Set()).add(waiter)
    }
    if (request.acquireTimeout !== Infinity) {
      waiter.timer = this.timer.after(request.acquireTimeout, this.timeout(waiter))
    }
    if (request.signal) {
      waiter.onAbort = this.withdrawer(waiter)
      request.signal.addEventListener('abort', waiter.onAbort, ONCE)
    }
    // Before the event: a listener may cancel the transaction, which needs the ticket to withdraw it.
    receiver.waiting?.(waiter)
    this.events.emitForRequest('waiting', request)
  }

  /*
   * The waiter's timeout and abort callbacks are made here, not inline in `enqueue`: a closure there shares
   * enqueue's context, and those contexts kept whole chains of finished waiters alive through young-generation
   * collections (a queue 4 deep copied and promoted ~20 % of everything it allocated; measured with
   * --trace-gc-nvp). Made here, each captures only the waiter.
   */
  private timeout(waiter: Waiter): () => void {
    return () => {
      this.dropWaiter(waiter, 'ACQUIRE_TIMEOUT', `not granted within ${waiter.request.acquireTimeout} ms`)
      this.pump()
    }
  }

  /** A waiter's ticket was used, or its request's signal aborted: the request is refused with `CANCELLED`. */
  withdrawWaiter(waiter: Waiter): void {
    if (!waiter.queued) return
    this.dropWaiter(waiter, 'CANCELLED', 'acquire aborted')
    this.pump()
  }

  private withdrawer(waiter: Waiter): () => void {
    return () => this.withdrawWaiter(waiter)
  }

  /** Takes a waiter out of every queue; it stops blocking whoever ranked after it. */
  private unqueue(waiter: Waiter): void {
    const resources = waiter.request.resources
    for (let i = 0; i < resources.length; i++) {
      const slot = this.slots.get(resources[i]!)
      if (slot) {
        slot.queue.remove(i === 0 ? waiter : waiter.more![i - 1]!)
        if (slot.limited?.delete(waiter) && slot.limited.size === 0) slot.limited = undefined
      }
      this.markDirty(resources[i]!)
    }
    waiter.timer?.()
    if (waiter.onAbort) waiter.request.signal?.removeEventListener('abort', waiter.onAbort)
  }

  private dropWaiter(waiter: Waiter, code: LockErrorCode, message: string): void {
    this.unqueue(waiter)
    this.events.emitForRequest('gave-up', waiter.request, code)
    refuseLater(waiter.receiver, this.error(code, message, waiter.request))
  }

  /** Frees the lease's resources; whoever detaches pumps. */
  protected detach(lease: MemoryLease): void {
    lease.live = false
    lease.ttlTimer?.()
    lease.ttlTimer = undefined
    for (const resource of lease.resources) {
      const slot = this.slots.get(resource)
      if (!slot || !releaseHold(slot, lease)) continue
      this.markDirty(resource)
    }
  }

  private markDirty(resource: string): void {
    this.dirty[this.dirtyCount++] = resource
  }

  /** Hands freed resources to their waiters, best ranked first. */
  private pump(): void {
    if (this.pumping) return
    this.pumping = true
    try {
      // Resources freed by grants made here are appended, and pumped in the same pass.
      for (let i = 0; i < this.dirtyCount; i++) {
        const resource = this.dirty[i]!
        const slot = this.slots.get(resource)
        if (!slot) continue
        for (let waiter = slot.queue.first(); waiter; waiter = slot.queue.first()) {
          if (!this.grantable(waiter.request, waiter)) break
          this.unqueue(waiter)
          grantLater(waiter.receiver, this.grant(waiter.request))
        }
        if (!slot.holder && slot.queue.size === 0) this.slots.delete(resource)
      }
      this.dirtyCount = 0
    } finally {
      this.pumping = false
    }
  }
}

/** Every lease holding `slot`'s resource, in a new array (callers lose them while iterating). */
function holdersOf(slot: Slot): MemoryLease[] {
  return slot.holder ? [slot.holder, ...(slot.coHolders ?? [])] : []
}

/** Takes `lease` off `slot`'s holders; false if it was not one of them. */
function releaseHold(slot: Slot, lease: MemoryLease): boolean {
  const more = slot.coHolders
  if (slot.holder === lease) {
    slot.holder = more?.shift() // the usual case: no co-holders, the resource is free
  } else {
    const index = more?.indexOf(lease) ?? -1
    if (index < 0) return false
    more!.splice(index, 1)
  }
  if (more?.length === 0) slot.coHolders = undefined
  if (slot.holder) slot.holdPriority = Math.max(...holdersOf(slot).map((holder) => holder.priority))
  return true
}

/**
 * A waiter learns its outcome a microtask after the decision, as from a promise: never from inside the protocol's
 * bookkeeping, so the transaction it starts cannot re-enter it half done.
 */
function grantLater(receiver: AcquireReceiver, lease: Lease): void {
  queueMicrotask(() => receiver.granted(lease))
}

function refuseLater(receiver: AcquireReceiver, error: LockError): void {
  queueMicrotask(() => receiver.refused(error))
}

/** Creates the in-memory protocol (the default); options as for {@link MemoryProtocol}'s constructor. */
export function memoryProtocol(options?: MemoryProtocolOptions | LockTimer): MemoryProtocol {
  return new MemoryProtocol(options)
}

function isLockTimer(options: MemoryProtocolOptions | LockTimer): options is LockTimer {
  return typeof (options as Partial<LockTimer>).after === 'function'
}

import { LockError, type LockErrorCode } from './errors.js'
import { EventFanout } from './events.js'
import type { LeaseBase } from './lease-base.js'
import { consoleLockLogger, type LockLogger } from './logger.js'
import type { AcquireRequest, LockEvent, LockEventListener } from './protocol.js'

/**
 * What the memory and Redis protocols share: event listeners, the checks every acquire starts with, the
 * errors they reject with, and how a lease is lost (detached, announced, its loss listeners told).
 */
export abstract class ProtocolBase<L extends LeaseBase> {
  protected readonly logger: LockLogger
  protected readonly events: EventFanout
  protected closed = false

  constructor(logger: LockLogger | undefined) {
    this.logger = logger ?? consoleLockLogger
    this.events = new EventFanout(this.logger)
  }

  on(listener: LockEventListener): () => void {
    return this.events.add(listener)
  }

  /**
   * The acquire preamble: throws for a request without resources; returns the rejection for a request that
   * cannot even be tried (protocol closed, signal already aborted); undefined when it may go ahead.
   */
  protected refuse(request: AcquireRequest): Promise<never> | undefined {
    if (request.resources.length === 0) throw new TypeError('acquire needs at least one resource')
    if (this.closed) return Promise.reject(this.error('LOST', 'the locking protocol is closed', request))
    if (request.signal?.aborted) return Promise.reject(this.error('CANCELLED', 'acquire aborted', request))
    return undefined
  }

  protected error(code: LockErrorCode, message: string, request: AcquireRequest): LockError {
    return new LockError(code, `${request.resources.join(', ')}: ${message}`, request.resources)
  }

  /** Marks a live lease lost: detaches it, emits the event its code names, tells its loss listeners. */
  protected lose(lease: L, code: LockErrorCode, message: string, by?: LockEvent['by']): boolean {
    if (!lease.live) return false
    this.detach(lease)
    this.announceLoss(lease, code, message, by)
    return true
  }

  /** The rest of `lose` once the lease is detached: the event its code names, then its loss listeners. */
  protected announceLoss(lease: L, code: LockErrorCode, message: string, by?: LockEvent['by']): void {
    const type = code === 'PREEMPTED' ? 'preempted' : code === 'EXPIRED' ? 'expired' : 'lost'
    this.events.emitForLease(type, lease, by)
    lease.notifyLost(new LockError(code, `${lease.resources.join(', ')}: ${message}`, lease.resources))
  }

  /** Marks a live lease released: detaches it, drops its loss listeners, emits `released`. False if it was not live. */
  protected markReleased(lease: L): boolean {
    if (!lease.live) return false
    this.detach(lease)
    lease.dropLossListeners()
    this.events.emitForLease('released', lease)
    return true
  }

  /** Takes a lease out of the protocol's bookkeeping and sets `live` false. */
  protected abstract detach(lease: L): void
}

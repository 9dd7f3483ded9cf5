import { reportListenerError, type LockLogger } from './logger.js'
import type { AcquireRequest, Lease, LockEvent, LockEventListener } from './protocol.js'

/**
 * Delivers lock events to listeners. A listener that throws is logged with the event it was given and does not
 * stop the protocol or the other listeners: a broken logger must never break locking (or end the daemon).
 */
export class EventFanout {
  private readonly listeners = new Set<LockEventListener>()

  constructor(private readonly logger: LockLogger) {}

  get active(): boolean {
    return this.listeners.size > 0
  }

  add(listener: LockEventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit(event: LockEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch (error) {
        reportListenerError(this.logger, error, { event }, 'lock event')
      }
    }
  }

  /** One event per resource of a request that holds nothing yet (`waiting`, `gave-up`). */
  emitForRequest(type: LockEvent['type'], request: AcquireRequest, reason?: string): void {
    if (!this.active) return
    for (const resource of request.resources) {
      this.emit({
        type,
        resource,
        lockerGuid: request.lockerGuid,
        priority: request.priority,
        ...(reason !== undefined && { reason }),
      })
    }
  }

  /** One event per resource of a lease, with its token there (`acquired`, `preempted`, `released`, ...). */
  emitForLease(type: LockEvent['type'], lease: Lease, by?: LockEvent['by']): void {
    if (!this.active) return
    for (const resource of lease.resources) {
      this.emit({
        type,
        resource,
        lockerGuid: lease.lockerGuid,
        priority: lease.priority,
        token: lease.tokens[resource],
        ...(by && { by }),
      })
    }
  }
}

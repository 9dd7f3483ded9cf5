import type { AcquireRequest, Lease, LockEvent, LockEventListener } from './protocol.js'

/**
 * Delivers lock events to listeners. A listener that throws is reported on the process and does not stop
 * the protocol: a broken logger must never break locking.
 */
export class EventFanout {
  private readonly listeners = new Set<LockEventListener>()

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
        queueMicrotask(() => {
          throw error
        })
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

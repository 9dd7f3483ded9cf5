import type { LockEvent, LockEventListener } from './protocol.js'

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
}

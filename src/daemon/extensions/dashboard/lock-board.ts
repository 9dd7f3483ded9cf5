import type { LockEvent } from '../../../lock/index.js'
import { holderName } from '../../holders.js'

/** Someone on a device's lock, as the dashboard shows it: `party (0)`. */
export interface LockParty {
  /** An automation's name, or `manual`. */
  readonly name: string
  readonly priority: number
}

/**
 * Who holds each device's lock and who waits for it, with their priorities, from lock events. The daemon's
 * HolderView says who holds a device; this adds the priority and the queue, which only the dashboard shows.
 */
export class LockBoard {
  /** Device id → the lockerGuid of its holder and the priority it holds at. */
  private readonly holders = new Map<string, { lockerGuid: string; priority: number }>()
  /** Device id → lockerGuid → priority, in arrival order. */
  private readonly waiters = new Map<string, Map<string, number>>()

  apply(event: LockEvent): void {
    const { resource, lockerGuid } = event
    switch (event.type) {
      case 'waiting':
        this.queue(resource).set(lockerGuid, event.priority)
        break
      case 'acquired':
        this.waiters.get(resource)?.delete(lockerGuid)
        this.holders.set(resource, { lockerGuid, priority: event.priority })
        break
      case 'gave-up':
        this.waiters.get(resource)?.delete(lockerGuid)
        break
      default:
        // released, preempted, expired, lost: the daemon's HolderView decides whether the holder is gone (it
        // counts re-entrant leases); the priority stays here until someone else acquires.
        break
    }
  }

  /** The holder of `deviceId` named `name` (from the daemon's HolderView), with the priority it acquired at. */
  holder(deviceId: string, name: string | undefined): LockParty | null {
    if (name === undefined) return null
    const held = this.holders.get(deviceId)
    return { name, priority: held && holderName(held.lockerGuid) === name ? held.priority : 0 }
  }

  /** Who waits for `deviceId`: highest priority first (the order they are served in), then first come. */
  waiting(deviceId: string): LockParty[] {
    const queue = [...(this.waiters.get(deviceId) ?? new Map<string, number>())]
    return queue
      .map(([lockerGuid, priority]) => ({ name: holderName(lockerGuid), priority }))
      .sort((a, b) => b.priority - a.priority)
  }

  private queue(deviceId: string): Map<string, number> {
    let queue = this.waiters.get(deviceId)
    if (!queue) this.waiters.set(deviceId, (queue = new Map()))
    return queue
  }
}

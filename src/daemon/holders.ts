import type { LockEvent } from '../lock/index.js'

/** Who holds each device's lock right now. */
export interface HolderView {
  /** The holder of `deviceId`'s lock right now (an automation's name, `manual`, …), or undefined when it is free. */
  holderOf(deviceId: string): string | undefined
  /** When a person's manual hold on `deviceId` ends (epoch ms), while one is in force. */
  manualHoldUntil(deviceId: string): number | undefined
}

const AUTOMATION = 'automation:'

/** Whether a lockerGuid is an automation's (its runs lock as `automation:<name>`). */
export function isAutomationLocker(lockerGuid: string): boolean {
  return lockerGuid.startsWith(AUTOMATION)
}

/** The holder name a lockerGuid shows as: `automation:party` → `party`, `manual:bath_bulb` → `manual`. */
export function holderName(lockerGuid: string): string {
  if (isAutomationLocker(lockerGuid)) return lockerGuid.slice(AUTOMATION.length)
  if (lockerGuid.startsWith('manual:')) return 'manual'
  return lockerGuid
}

/**
 * The holder of every device's lock, kept from lock events. It changes the moment a lease is granted, lost or
 * released, so it is never stale: the automation engine learns that a run ended or was suspended only after the
 * lock event, and a manual command (Home Assistant) holds the lock without the engine knowing at all.
 *
 * @example
 * const holders = new DeviceHolders()
 * locks.protocol.on((event) => holders.apply(event))
 * holders.holderOf('bath_bulb') // 'party'
 */
export class DeviceHolders implements HolderView {
  /** Device id → the lockerGuid holding it and its live leases (one holder may hold several: re-entrance). */
  private readonly held = new Map<string, { lockerGuid: string; tokens: Set<number> }>()
  /** Device id → when its manual hold ends (from `manualHold` events). */
  private readonly holds = new Map<string, number>()

  holderOf(deviceId: string): string | undefined {
    const hold = this.held.get(deviceId)
    return hold ? holderName(hold.lockerGuid) : undefined
  }

  manualHoldUntil(deviceId: string): number | undefined {
    return this.holds.get(deviceId)
  }

  /** Follows manual control: `until` is when the hold on `deviceId` ends, undefined once it has. */
  setManualHold(deviceId: string, until: number | undefined): void {
    if (until === undefined) this.holds.delete(deviceId)
    else this.holds.set(deviceId, until)
  }

  /** Follows one lock event; returns true when the device's holder changed. */
  apply(event: LockEvent): boolean {
    if (event.token === undefined) return false // waiting, gave-up: nothing held changes
    const before = this.holderOf(event.resource)
    const hold = this.held.get(event.resource)
    if (event.type === 'acquired') {
      if (hold && hold.lockerGuid === event.lockerGuid) hold.tokens.add(event.token)
      else this.held.set(event.resource, { lockerGuid: event.lockerGuid, tokens: new Set([event.token]) })
    } else if (hold && hold.lockerGuid === event.lockerGuid) {
      // released, preempted, expired, lost: that lease is gone; the holder stays while it has another.
      hold.tokens.delete(event.token)
      if (hold.tokens.size === 0) this.held.delete(event.resource)
    }
    return this.holderOf(event.resource) !== before
  }
}

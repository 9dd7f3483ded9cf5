import type { BulbState } from '../devices/bulb.js'

/**
 * The last command each automation sent to each device, so a `restore` snapshot can wait for commands still on
 * their way (the preempted automation's last one) and then read the bulb's known state, without asking the bulb.
 */
export class CommandTracker {
  private readonly last = new Map<string, Promise<unknown>>()

  /** Records `command` as the latest sent to `deviceId`; returns it unchanged. */
  track<T>(deviceId: string, command: Promise<T>): Promise<T> {
    const settled = command.then(
      () => undefined,
      () => undefined,
    )
    this.last.set(deviceId, settled)
    void settled.then(() => {
      if (this.last.get(deviceId) === settled) this.last.delete(deviceId)
    })
    return command
  }

  /** Resolves with `read()` once the last command tracked for `deviceId` has settled (at once if none is pending). */
  stateAfterPending(deviceId: string, read: () => BulbState): Promise<BulbState> {
    const pending = this.last.get(deviceId)
    return pending ? pending.then(read) : Promise.resolve(read())
  }
}

import type { BulbCommand, BulbState, CommandOrigin } from '../bulb.js'
import type { RollingRateLimiter } from './rate-limiter.js'

/**
 * Two commands as one, as if `newer` had been sent right after `older`: newer fields win, and a colour replaces a
 * colour temperature (and the other way round), since a lamp shows one or the other.
 */
export function mergeCommands(older: BulbCommand, newer: BulbCommand): BulbCommand {
  const merged: { -readonly [K in keyof BulbCommand]: BulbCommand[K] } = { ...older, ...newer }
  if (newer.color !== undefined) delete merged.colorTemp
  if (newer.colorTemp !== undefined) delete merged.color
  // A brightness of 0 means off; a later "on" without a brightness must not turn the lamp on at 0 %.
  if (newer.on === true && newer.brightness === undefined && older.brightness === 0) delete merged.brightness
  return merged
}

interface Waiting {
  readonly command: BulbCommand
  readonly origin: CommandOrigin | undefined
  readonly resolve: (state: BulbState) => void
  readonly reject: (error: unknown) => void
}

/**
 * Holds a light's commands before they go to its command queue, one at a time and in order, within the bridge's
 * rate limit. When more commands are waiting than the bridge's remaining budget could send (a Home Assistant
 * brightness slider floods 20 a second), the waiting ones are merged into one — latest wins — so the lamp ends at
 * the newest value quickly instead of replaying stale ones for seconds. Every merged caller gets the merged result.
 */
export class CommandGate {
  private readonly waiting: Waiting[] = []
  private busy = false
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly limiter: RollingRateLimiter,
    private readonly submit: (command: BulbCommand, origin: CommandOrigin | undefined) => Promise<BulbState>,
  ) {}

  /** Queues `command` (already validated); resolves with the state after it (or after the command it merged into). */
  push(command: BulbCommand, origin?: CommandOrigin): Promise<BulbState> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ command, origin, resolve, reject })
      this.pump()
    })
  }

  /** Rejects every waiting command with `error` (the one being sent finishes). */
  close(error: Error): void {
    clearTimeout(this.timer)
    this.timer = undefined
    for (const entry of this.waiting.splice(0)) entry.reject(error)
  }

  private pump(): void {
    if (this.busy || this.timer || this.waiting.length === 0) return
    const delay = this.limiter.delay()
    if (delay > 0) {
      // No budget now: wait for it, merging what waits (and what comes meanwhile) into one command.
      if (this.waiting.length > 1) this.waiting.push(merge(this.waiting.splice(0)))
      this.timer = setTimeout(() => {
        this.timer = undefined
        this.pump()
      }, delay)
      return
    }
    const next = this.waiting.length > this.limiter.remaining() ? merge(this.waiting.splice(0)) : this.waiting.shift()!
    this.busy = true
    void this.submit(next.command, next.origin)
      .then(next.resolve, next.reject)
      .finally(() => {
        this.busy = false
        this.pump()
      })
  }
}

/** Waiting commands as one entry: the merged command, the newest origin, every caller answered. */
function merge(batch: Waiting[]): Waiting {
  return {
    command: batch.map((entry) => entry.command).reduce(mergeCommands),
    origin: batch.at(-1)!.origin,
    resolve: (state) => batch.forEach((entry) => entry.resolve(state)),
    reject: (error) => batch.forEach((entry) => entry.reject(error)),
  }
}

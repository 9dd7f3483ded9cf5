import { restoreCommand } from '../automation/restore.js'
import type { Bulb, BulbCommand, BulbState } from '../devices/bulb.js'
import { isLockError } from '../lock/errors.js'
import type { CommitPromise, Locker, LockerFactory, TransactionContext } from '../lock/index.js'

/** The holder name manual commands carry in command logs and lock events. */
export const MANUAL_HOLDER = 'manual'

/** The slice of a logger manual control writes to. */
export interface ManualLogger {
  info(fields: object, message?: string): void
  warn(fields: object, message?: string): void
}

/** How a person's change holds a bulb (config.yaml `manual`). */
export interface ManualHoldSettings {
  /** Lock priority of a person's change. */
  readonly priority: number
  /** How long a change holds the bulb, ms; each new change restarts it. 0: momentary (one transaction per change). */
  readonly holdMs: number
  /** A person switching the bulb off ends the hold. */
  readonly releaseOnOff: boolean
}

/** Where a person's change came from: Home Assistant's light, or the bulb itself (app, wall switch, remote). */
export type ManualSource = 'homeassistant' | 'outside'

/** What manual control of one bulb is doing, for Home Assistant's attributes, "Held by" and `genlock status`. */
export interface ManualHoldView {
  /** The manual transaction holds the bulb's lock right now. */
  readonly holding: boolean
  /** A change waiting for the lock (a higher priority holds the bulb), if one does. */
  readonly waitingCommand: BulbCommand | undefined
  /** When the hold ends (epoch ms), while one is in force (also while the alarm has the bulb). */
  readonly until: number | undefined
}

/** A change to apply: the command, and for an outside change the state the bulb already shows (nothing to send). */
interface Pending {
  readonly command: BulbCommand
  readonly unlessShowing?: BulbState
}

/**
 * Manual control of one bulb, the way a BACnet priority array behaves: a person's change (a Home Assistant light
 * command, or a change made at the bulb itself) is a transaction at `priority` through the same gen-lock factory
 * the automations use, and it keeps holding the bulb for `holdMs` after the last change. It takes the bulb from a
 * lower priority holder at once (which stays preempted while the hold lasts), and waits behind a higher one; when
 * that one lets go, the person's state is put back and the hold goes on until its time is up. A change still
 * waiting is replaced by a newer one. The hold ends early on {@link release}, or when a person switches the bulb off
 * (`releaseOnOff`). With `holdMs: 0` each change is momentary: applied, then the lock is let go.
 *
 * @example
 * const manual = new ManualControl(locks, bulb, { priority: 100, holdMs: 30 * 60_000, releaseOnOff: true }, logger)
 * manual.change({ on: true, brightness: 30 }, 'homeassistant') // party (0) suspended for 30 minutes
 * manual.release('released on request') // party resumes
 */
export class ManualControl {
  private readonly locker: Locker<Bulb>
  /** The change to apply next; cleared once the bulb has it. */
  private pending: Pending | undefined
  /** The person's state: put back after a higher priority holder lets go. */
  private look: BulbState | undefined
  /** Let the lock go once the pending changes are applied (momentary, or switched off). */
  private momentary = false
  private deadline: number | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private wake: (() => void) | undefined
  private run: CommitPromise<void, Bulb> | undefined
  private holding = false
  private closed = false

  constructor(
    locks: LockerFactory,
    readonly bulb: Bulb,
    private readonly settings: ManualHoldSettings,
    private readonly logger: ManualLogger,
    /** Called whenever what {@link view} shows may have changed. */
    private readonly onChange: () => void = () => {},
  ) {
    // One holder per bulb: a later change joins the lock it already holds rather than queueing behind itself.
    this.locker = locks.newLocker(bulb.id, bulb, { priority: settings.priority }, `${MANUAL_HOLDER}:${bulb.id}`)
  }

  get priority(): number {
    return this.settings.priority
  }

  /** True while a change waits for the lock (a higher priority holds the bulb). */
  get waiting(): boolean {
    return this.run !== undefined && !this.holding
  }

  /** The command that waits for the lock, if one does. */
  get waitingCommand(): BulbCommand | undefined {
    return this.waiting ? this.pending?.command : undefined
  }

  view(): ManualHoldView {
    return { holding: this.holding, waitingCommand: this.waitingCommand, until: this.deadline }
  }

  /** Applies a Home Assistant light command under the lock: now, or when the higher priority holder lets go. */
  command(command: BulbCommand): void {
    this.change(command, 'homeassistant')
  }

  /**
   * A person's change: `command` from Home Assistant, or `state` the bulb reported that genlock did not command
   * (`outside`). Starts or restarts the hold.
   */
  change(command: BulbCommand, source: 'homeassistant'): void
  change(state: BulbState, source: 'outside'): void
  change(change: BulbCommand | BulbState, source: ManualSource): void {
    if (this.closed) return
    const switchedOff = change.on === false || (change.on === undefined && change.brightness === 0)
    const releasing = switchedOff && this.settings.releaseOnOff
    if (source === 'outside') {
      const state = change as BulbState
      if (releasing) {
        if (this.run) {
          // The person is done with it. A change of theirs still on its way to the bulb must not switch it back
          // on: the off is applied (where the bulb does not show it already), then the lock is let go.
          this.pending = { command: restoreCommand(state), unlessShowing: state }
          this.look = undefined
          this.momentary = true
          this.stopTimer()
          this.logger.info(
            { device: this.bulb.id },
            `manual hold on ${this.bulb.id} ended: switched off outside genlock`,
          )
          this.wakeUp()
          this.onChange()
        } else if (this.deadline !== undefined) {
          this.release('switched off outside genlock')
        }
        return
      }
      this.pending = { command: restoreCommand(state), unlessShowing: state }
      this.look = state
    } else {
      if (this.pending && this.waiting) {
        this.logger.info({ device: this.bulb.id }, 'a newer manual command replaces the one waiting for the lock')
      }
      this.pending = { command: change as BulbCommand }
    }
    this.momentary = releasing || this.settings.holdMs === 0
    if (this.momentary) this.stopTimer()
    else this.holdFor(this.settings.holdMs)
    this.run ??= this.start()
    this.wakeUp()
    this.onChange()
  }

  /** Ends the hold (on request, or its time ran out): suspended automations resume. */
  release(reason: string): void {
    const had = this.run !== undefined || this.deadline !== undefined
    this.stopTimer()
    this.pending = undefined
    this.look = undefined
    this.momentary = false
    if (this.run) this.run.cancel(reason)
    if (had) this.logger.info({ device: this.bulb.id, reason }, `manual hold on ${this.bulb.id} ended: ${reason}`)
    this.onChange()
  }

  /** Drops a waiting change and ends the transaction (device removed, daemon stopping). */
  close(): void {
    this.closed = true
    this.stopTimer()
    this.pending = undefined
    this.run?.cancel('manual control closed')
    this.onChange()
  }

  private holdFor(ms: number): void {
    this.stopTimer()
    this.deadline = Date.now() + ms
    this.timer = setTimeout(() => this.release(`its time (${formatMs(ms)}) ran out`), ms)
    this.timer.unref?.()
  }

  private stopTimer(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.deadline = undefined
  }

  private wakeUp(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  /** Resolves when a new change comes, or at once when the lock is lost (a pending yield would hold up the fence). */
  private nextChange(ctx: TransactionContext): Promise<void> {
    const signal = ctx.signal
    if (signal.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done)
        if (this.wake === done) this.wake = undefined
        resolve()
      }
      this.wake = done
      signal.addEventListener('abort', done, { once: true })
    })
  }

  private start(): CommitPromise<void, Bulb> {
    let applying: Pending | undefined
    const next = (): Pending | undefined => this.pending
    const holdsOn = (): boolean => !this.momentary && this.deadline !== undefined
    const applied = (change: Pending, state: BulbState): void => this.applied(change, state)
    const holding = (value: boolean): void => this.setHolding(value)
    const nextChange = (ctx: TransactionContext): Promise<void> => this.nextChange(ctx)
    const run = this.locker
      .promise(function* manualTransaction(bulb, ctx) {
        holding(true)
        for (;;) {
          for (let change = next(); change; change = next()) {
            applying = change
            if (change.unlessShowing && showsState(bulb.state, change.unlessShowing)) {
              applied(change, change.unlessShowing)
              continue
            }
            const state = (yield bulb.setState(change.command, {
              holder: MANUAL_HOLDER,
              token: ctx.token,
            })) as BulbState
            applied(change, state)
          }
          if (!holdsOn()) return
          yield nextChange(ctx)
        }
      })
      // Preempted (the alarm took the bulb): wait for the lock again, then put the person's state back.
      .recover((ops) => {
        this.setHolding(false)
        if (!this.pending && this.look && !this.momentary) {
          this.pending = { command: restoreCommand(this.look), unlessShowing: this.look }
        }
        return ops.restart()
      })
    run.then(
      () => this.ended(run, undefined, undefined),
      (error: unknown) => this.ended(run, error, applying),
    )
    return run
  }

  private applied(change: Pending, state: BulbState): void {
    this.look = state
    // Only clear what was applied: a change that came in meanwhile is applied on the next turn.
    if (this.pending === change) this.pending = undefined
  }

  private setHolding(value: boolean): void {
    this.holding = value
    this.onChange()
  }

  private ended(run: CommitPromise<void, Bulb>, error: unknown, failed: Pending | undefined): void {
    if (this.run !== run) return
    this.run = undefined
    this.holding = false
    if (error !== undefined) {
      // A command the bulb refused is dropped, or it would be retried forever.
      if (this.pending === failed) this.pending = undefined
      if (!isLockError(error, 'CANCELLED')) {
        this.logger.warn(
          { device: this.bulb.id, err: (error as Error).message },
          `manual command failed: ${(error as Error).message}`,
        )
      }
    }
    if (this.momentary && !this.pending) {
      this.momentary = false
      this.look = undefined
    }
    if (this.pending && !this.closed) this.run = this.start()
    this.onChange()
  }
}

/** Whether the bulb shows `state` already (what it reported is what it is). */
function showsState(current: BulbState, state: BulbState): boolean {
  return JSON.stringify(restoreCommand(current)) === JSON.stringify(restoreCommand(state))
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`
  if (ms % 60_000 === 0) return `${ms / 60_000}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}

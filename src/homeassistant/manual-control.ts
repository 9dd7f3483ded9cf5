import type { Bulb, BulbCommand } from '../devices/bulb.js'
import { isLockError, type CommitPromise, type Locker, type LockerFactory } from '../lock/index.js'

/** The holder name manual commands carry in command logs and lock events. */
export const MANUAL_HOLDER = 'manual'

/** The slice of a logger manual control writes to. */
export interface ManualLogger {
  info(fields: object, message?: string): void
  warn(fields: object, message?: string): void
}

/**
 * Manual control of one bulb, the way a BACnet priority array or a KNX priority object behaves: each command is a
 * transaction at `priority` through the same gen-lock factory the automations use. It takes the bulb from a lower
 * priority holder at once, and waits behind a higher one; a command still waiting is replaced by a newer one, so
 * when the higher holder lets go, the latest command is the one applied.
 *
 * @example
 * const manual = new ManualControl(locks, bulb, 100, logger)
 * manual.command({ on: true, brightness: 30 }) // during the alarm (200): applied when the alarm ends
 * manual.command({ on: false }) // replaces the one still waiting
 */
export class ManualControl {
  private readonly locker: Locker<Bulb>
  /** The command to apply next; cleared once the bulb has it. */
  private pending: BulbCommand | undefined
  private run: CommitPromise<void, Bulb> | undefined
  private holding = false
  private closed = false

  constructor(
    locks: LockerFactory,
    readonly bulb: Bulb,
    readonly priority: number,
    private readonly logger: ManualLogger,
    /** Called when a command starts or stops waiting for the lock. */
    private readonly onChange: () => void = () => {},
  ) {
    // One holder per bulb: a later command joins the lock it already holds rather than queueing behind itself.
    this.locker = locks.newLocker(bulb.id, bulb, { priority }, `${MANUAL_HOLDER}:${bulb.id}`)
  }

  /** True while a command waits for the lock (a higher priority holds the bulb). */
  get waiting(): boolean {
    return this.run !== undefined && !this.holding
  }

  /** The command that waits for the lock, if one does. */
  get waitingCommand(): BulbCommand | undefined {
    return this.waiting ? this.pending : undefined
  }

  /** Applies `command` under the lock: now, or when the higher priority holder lets go. */
  command(command: BulbCommand): void {
    if (this.closed) return
    if (this.pending && this.waiting) {
      this.logger.info({ device: this.bulb.id }, 'a newer manual command replaces the one waiting for the lock')
    }
    this.pending = command
    this.run ??= this.start()
    this.onChange()
  }

  /** Drops a waiting command and ends the transaction (device removed, daemon stopping). */
  close(): void {
    this.closed = true
    this.pending = undefined
    this.run?.cancel('manual control closed')
    this.onChange()
  }

  private start(): CommitPromise<void, Bulb> {
    let applying: BulbCommand | undefined
    const next = (): BulbCommand | undefined => this.pending
    const applied = (command: BulbCommand): void => {
      // Only clear what was applied: a command that came in meanwhile is applied on the next turn.
      if (this.pending === command) this.pending = undefined
    }
    const holding = (value: boolean): void => {
      this.holding = value
      this.onChange()
    }
    const run = this.locker
      .promise(function* manualTransaction(bulb, context) {
        holding(true)
        for (let command = next(); command; command = next()) {
          applying = command
          yield bulb.setState(command, { holder: MANUAL_HOLDER, token: context.token })
          applied(command)
        }
      })
      // Preempted mid-command (the alarm took the bulb): wait for the lock again, then apply the latest command.
      .recover((ops) => {
        holding(false)
        return ops.restart()
      })
    run.then(
      () => this.ended(undefined, undefined),
      (error: unknown) => this.ended(error, applying),
    )
    return run
  }

  private ended(error: unknown, failed: BulbCommand | undefined): void {
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
    if (this.pending && !this.closed) this.run = this.start()
    this.onChange()
  }
}

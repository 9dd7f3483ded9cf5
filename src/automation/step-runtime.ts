import type { Logger } from 'pino'
import type { Bulb, BulbCommand, BulbState } from '../devices/bulb.js'
import type { BackendReachability, TransactionContext } from '../lock/index.js'
import type { Clock } from './clock.js'
import type { CommandTracker } from './command-tracker.js'
import type { StepKind } from './definition.js'
import type { RunVariables } from './expression-context.js'
import type { MessageHub } from './message-hub.js'
import type { RunLooks } from './resume-look.js'
import type { RunEvents } from './run-events.js'

/** What every run of every automation shares: built once by the engine. */
export interface RunServices {
  readonly hub: MessageHub
  /** Where device commands are recorded, for restore snapshots. */
  readonly commands: CommandTracker
  readonly events: RunEvents
  /** Where `wait` and `wait_for` timeouts get their time. */
  readonly clock: Clock
  /** Whether the lock backend (Redis) answers; absent for the in-memory locks, which always do. */
  readonly lockBackend?: BackendReachability | undefined
}

/** What a run's steps report back to the run. */
export interface RunProgress {
  readonly id: number
  readonly automation: string
  readonly logger: Logger
  readonly onError: 'abort' | 'continue'
  readonly services: RunServices
  /** Path of the step the run is at (outside parallel branches), for `lock-lost` events. */
  step: string
  /** Called as each step starts, and as a resumed wait goes on: the run is executing under its lock. */
  markRunning(): void
  /** What the run last set on each bulb, kept when it resumes after a preemption (`on_preempt: resume`). */
  readonly looks: RunLooks | undefined
}

/**
 * The one object a compiled step gets while it runs: the run's lock context and device handles, its variables,
 * and the run's services. One per transaction attempt, and one per parallel branch (`fork`).
 */
export class StepRuntime {
  readonly automation: string
  readonly logger: Logger
  readonly onError: 'abort' | 'continue'
  readonly hub: MessageHub
  readonly commands: CommandTracker
  readonly events: RunEvents
  readonly clock: Clock
  readonly looks: RunLooks | undefined
  /**
   * The error of the last step that failed under `on_error: continue`, for that step's `end` event; only kept
   * while someone listens to run events.
   */
  continuedError: unknown

  constructor(
    private readonly run: RunProgress,
    readonly ctx: TransactionContext,
    /** The fenced handles of the automation's devices, by id. */
    readonly bulbs: ReadonlyMap<string, Bulb>,
    readonly variables: RunVariables,
    /** True inside a parallel branch: its steps are driven by the branch runner, not by the lock core. */
    readonly inBranch = false,
  ) {
    this.automation = run.automation
    this.logger = run.logger
    this.onError = run.onError
    this.hub = run.services.hub
    this.commands = run.services.commands
    this.events = run.services.events
    this.clock = run.services.clock
    this.looks = run.looks
  }

  /** A copy for a parallel branch: its own `repeat` and `wait` variables. */
  fork(): StepRuntime {
    return new StepRuntime(this.run, this.ctx, this.bulbs, { ...this.variables }, true)
  }

  markRunning(): void {
    this.run.markRunning()
  }

  /**
   * Records that `step` starts. A step only ever starts under the lock, so the run is running; and it is at this
   * step now (branches leave that to their parallel step).
   */
  enter(step: CompiledStep): void {
    this.run.markRunning()
    if (!this.inBranch) this.run.step = step.path
  }

  /** A `step` run event (call only while `events.listening`). */
  stepEvent(step: CompiledStep, phase: 'start' | 'end', error?: unknown): void {
    this.events.emit(this.automation, this.run.id, {
      type: 'step',
      path: step.path,
      kind: step.kind,
      phase,
      ...(error === undefined ? {} : { error: errorText(error) }),
    })
  }

  /** Reports the bulb's answer to `command` as a `command` run event (call only while `events.listening`). */
  reportCommand(device: string, command: BulbCommand, answer: Promise<BulbState>): void {
    const sent = performance.now()
    const ms = () => Math.round((performance.now() - sent) * 1000) / 1000
    const { events, automation, run } = this
    answer.then(
      (state) => events.emit(automation, run.id, { type: 'command', device, command, ok: true, state, ms: ms() }),
      (error: unknown) =>
        events.emit(automation, run.id, {
          type: 'command',
          device,
          command,
          ok: false,
          error: errorText(error),
          ms: ms(),
        }),
    )
  }
}

/** A compiled step: where it is in its file, its kind, and the code that runs it. */
export interface CompiledStep {
  readonly path: string
  readonly kind: StepKind
  /** `path (kind)`, as log lines and errors name the step. */
  readonly label: string
  readonly run: StepCode
}

/** Compiled code for a step or a step list: a generator run with `yield*` inside the automation's transaction. */
export type StepCode = (runtime: StepRuntime) => Generator<unknown, void, unknown>

/** A step that failed: says which step (by its path in the file) and why. */
export class StepError extends Error {
  override readonly name = 'StepError'

  constructor(
    readonly step: string,
    readonly reason: unknown,
  ) {
    super(`${step}: ${errorText(reason)}`, { cause: reason })
  }
}

/** An error's message (or the thrown value as text). */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * Yielded by a parallel branch whose device handle refused a call because the lock was just lost: the branch
 * runner stops driving it, and the step is tried again once the lock is back.
 */
export const INTERRUPTED: unique symbol = Symbol('genlock.automation.interrupted')

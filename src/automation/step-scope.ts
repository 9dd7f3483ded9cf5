import type { Logger } from 'pino'
import type { Bulb } from '../devices/bulb.js'
import type { TransactionContext } from '../lock/index.js'
import type { CommandTracker } from './command-tracker.js'
import type { ExpressionContext } from './expression.js'
import type { MessageHub } from './message-hub.js'
import type { ScopeVariables } from './scope.js'

/** Everything a compiled step needs while it runs. One per transaction attempt (and one per parallel branch). */
export interface StepScope {
  readonly name: string
  readonly ctx: TransactionContext
  /** The fenced handles of the automation's devices, by id. */
  readonly bulbs: ReadonlyMap<string, Bulb>
  readonly hub: MessageHub
  /** Where device commands are recorded, for restore snapshots. */
  readonly commands: CommandTracker
  readonly logger: Logger
  readonly onError: 'abort' | 'continue'
  readonly vars: ScopeVariables
  /** True inside a parallel branch: its steps are driven by the branch runner, not by the lock core. */
  readonly inBranch: boolean
  /** The expression context for the variables as they are now. */
  context(): ExpressionContext
  /** Called as each step starts: the run is executing under its lock. */
  markRunning(): void
  /** A copy for a parallel branch (its own `repeat` and `wait` variables). */
  fork(): StepScope
}

/** A compiled step or step list: a generator run with `yield*` inside the automation's transaction. */
export type CompiledStep = (scope: StepScope) => Generator<unknown, void, unknown>

/** A step that failed: says which step (by its path in the file) and why. */
export class StepError extends Error {
  override readonly name = 'StepError'

  constructor(
    readonly step: string,
    readonly reason: unknown,
  ) {
    super(`${step}: ${reason instanceof Error ? reason.message : String(reason)}`, { cause: reason })
  }
}

/**
 * Yielded by a parallel branch whose device handle refused a call because the lock was just lost: the branch
 * runner stops driving it, and the step is tried again once the lock is back.
 */
export const INTERRUPTED: unique symbol = Symbol('genlock.automation.interrupted')

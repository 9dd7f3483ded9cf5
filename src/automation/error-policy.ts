import { isLockError } from '../lock/errors.js'
import type { Condition } from './expression.js'
import { StepError, type StepRuntime } from './step-runtime.js'

/**
 * The automation's `on_error`, written once: what a failure of the step labelled `step` does. Lock errors always
 * pass through (they are the lock core's business). With `abort` the failure ends the run as a StepError; with
 * `continue` it is logged (`goingOn` says what happens instead) and the caller goes on.
 */
export function applyErrorPolicy(
  runtime: StepRuntime,
  step: string,
  error: unknown,
  goingOn = 'step failed, going on (on_error: continue)',
): void {
  if (isLockError(error)) throw error
  if (runtime.onError === 'abort') throw error instanceof StepError ? error : new StepError(step, error)
  runtime.logger.warn({ step, err: error }, `${goingOn}: ${String(error)}`)
  if (runtime.events.listening) runtime.continuedError = error
}

/** Evaluates a step's condition; an evaluation error is a step failure (false under `on_error: continue`). */
export function conditionHolds(runtime: StepRuntime, condition: Condition, step: string): boolean {
  try {
    return condition.test(runtime.variables)
  } catch (error) {
    applyErrorPolicy(runtime, step, error, 'condition failed, taken as false')
    return false
  }
}

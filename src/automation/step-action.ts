import { publishTopicProblem } from '../bus/index.js'
import { isLockError } from '../lock/errors.js'
import { sleep } from './clock.js'
import { applyErrorPolicy } from './error-policy.js'
import type { Template } from './expression.js'
import { INTERRUPTED, type StepCode, type StepRuntime } from './step-runtime.js'

/**
 * Runs one action: `start` makes its promise (or value), which is yielded once, so a preemption lands between
 * two actions. A failure goes to the error policy.
 */
export function* action(runtime: StepRuntime, label: string, start: () => unknown): Generator<unknown, void, unknown> {
  for (;;) {
    runtime.markRunning()
    let pending: unknown
    try {
      pending = start()
    } catch (error) {
      if (runtime.inBranch && isLockError(error, 'FENCED')) {
        // The lock went between the branch runner's check and this call; try again once it is back.
        yield INTERRUPTED
        continue
      }
      return applyErrorPolicy(runtime, label, error)
    }
    try {
      yield pending
      return
    } catch (error) {
      // A command withdrawn because the lock went before it left (never sent): the run sees this only once it has the
      // lock again, so the action is issued again under the new lease.
      if (isLockError(error, 'FENCED')) continue
      return applyErrorPolicy(runtime, label, error)
    }
  }
}

/** The `wait` step. A wait cut short by a lost lock is over: `resume` goes on with the next step. */
export function waitStep(ms: number, label: string): StepCode {
  return (runtime) => action(runtime, label, () => sleep(runtime.clock, ms, runtime.ctx.signal))
}

/** The `publish` step: an object payload is sent as JSON. */
export function publishStep(
  topic: Template,
  payload: Template,
  options: { readonly retain: boolean; readonly qos: 0 | 1 },
  label: string,
): StepCode {
  return (runtime) =>
    action(runtime, label, () => {
      const target = String(topic.render(runtime.variables))
      const problem = publishTopicProblem(target)
      if (problem) throw new TypeError(`cannot publish: ${problem}`)
      const value = payload.render(runtime.variables)
      const text = typeof value === 'string' ? value : JSON.stringify(value)
      return runtime.hub.publish(target, text, { retain: options.retain, qos: options.qos })
    })
}

/** The `log` step: the message goes to the daemon's log, with the step's path. */
export function logStep(
  message: Template,
  level: 'debug' | 'info' | 'warn' | 'error',
  path: string,
  label: string,
): StepCode {
  return (runtime) =>
    action(runtime, label, () => {
      runtime.logger[level]({ step: path }, String(message.render(runtime.variables)))
      return undefined
    })
}

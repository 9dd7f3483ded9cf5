import { applyErrorPolicy } from './error-policy.js'
import { describeCondition } from './condition.js'
import type { ConditionDefinition } from './definition.js'
import type { Condition } from './expression.js'
import type { IncomingMessage } from './message-hub.js'
import type { StepCode, StepRuntime } from './step-runtime.js'
import { triggerMismatch, type CompiledMqttTrigger } from './trigger-match.js'

/** A `wait_for` step compiled: a message to wait for (with its own condition), or a condition alone. */
export interface WaitForPlan {
  readonly trigger?: CompiledMqttTrigger
  readonly condition?: Condition
  /** The condition as written, for log lines. */
  readonly conditionSource?: ConditionDefinition
  readonly timeout?: number
  readonly onTimeout: 'continue' | 'abort'
}

type Outcome =
  | { kind: 'matched'; message?: IncomingMessage }
  | { kind: 'timeout' }
  | { kind: 'interrupted' }
  | { kind: 'error'; error: unknown }

/**
 * The `wait_for` step: one yield that ends when the message arrives or the condition turns true, or at the
 * timeout. Unlike `wait`, a wait_for cut short by a lost lock waits again (for what is left of its timeout)
 * once the lock is back: what it waits for has not happened yet — unless its message came while the run was
 * suspended: the message subscription lasts the whole step, so that message ends the wait at once.
 *
 * In a wait_for's own `condition`, `wait` is the message being looked at; `trigger` is still the run's trigger.
 */
export function waitForStep(plan: WaitForPlan, label: string): StepCode {
  return function* waitForStep(runtime) {
    runtime.markRunning()
    const deadline = plan.timeout === undefined ? Infinity : runtime.clock.now() + plan.timeout
    const arrival = plan.trigger && new Arrival(plan.trigger, runtime, deadline)
    try {
      for (;;) {
        const remaining = Math.max(0, deadline - runtime.clock.now())
        const outcome = (yield waitOnce(plan, runtime, label, remaining, arrival)) as Outcome
        switch (outcome.kind) {
          case 'matched':
            if (outcome.message) runtime.variables.wait = outcome.message
            return
          case 'timeout':
            if (plan.onTimeout === 'abort')
              return failed(runtime, label, new Error(`timed out after ${plan.timeout} ms`))
            runtime.logger.debug({ step: label }, 'wait_for timed out; going on')
            return
          case 'error':
            return failed(runtime, label, outcome.error)
          case 'interrupted':
            // Resumed: the generator only goes on under the lock again.
            runtime.markRunning()
            break
        }
      }
    } finally {
      arrival?.close()
    }
  }
}

function failed(runtime: StepRuntime, label: string, error: unknown): void {
  applyErrorPolicy(runtime, label, error, 'wait_for failed, going on (on_error: continue)')
}

/** The first message matching a wait_for's trigger before its deadline, whether the run is running or suspended. */
class Arrival {
  message: IncomingMessage | undefined
  /** Called when the message comes (set while a wait is on). */
  notify: ((message: IncomingMessage) => void) | undefined
  private readonly unsubscribe: () => void

  constructor(trigger: CompiledMqttTrigger, runtime: StepRuntime, deadline: number) {
    const contextFor = (message: IncomingMessage) => ({ ...runtime.variables, wait: message })
    this.unsubscribe = runtime.hub.watch(trigger.topic, (message) => {
      if (this.message || runtime.clock.now() > deadline) return
      try {
        if (triggerMismatch(trigger, message, contextFor) !== undefined) return
      } catch (error) {
        runtime.logger.warn(
          { err: error, topic: message.topic },
          `wait_for condition failed on this message: ${String(error)}`,
        )
        return
      }
      this.message = message
      this.notify?.(message)
    })
  }

  close(): void {
    this.unsubscribe()
  }
}

function waitOnce(
  plan: WaitForPlan,
  runtime: StepRuntime,
  label: string,
  ms: number,
  arrival: Arrival | undefined,
): Promise<Outcome> {
  if (arrival?.message) return Promise.resolve({ kind: 'matched', message: arrival.message })
  return new Promise<Outcome>((resolve) => {
    const signal = runtime.ctx.signal
    if (signal.aborted) {
      resolve({ kind: 'interrupted' })
      return
    }
    const cleanups: (() => void)[] = []
    let done = false
    const finish = (outcome: Outcome) => {
      if (done) return
      done = true
      for (const cleanup of cleanups) cleanup()
      resolve(outcome)
    }
    const onAbort = () => finish({ kind: 'interrupted' })
    signal.addEventListener('abort', onAbort, { once: true })
    cleanups.push(() => signal.removeEventListener('abort', onAbort))
    if (ms !== Infinity) {
      cleanups.push(runtime.clock.after(ms, () => finish({ kind: 'timeout' })))
    }
    const trigger = plan.trigger
    runtime.logger.debug(
      { step: label },
      `waiting for ${trigger ? `a message on ${trigger.topic}` : describeCondition(plan.conditionSource ?? '')}`,
    )
    if (arrival) {
      arrival.notify = (message) => finish({ kind: 'matched', message })
      cleanups.push(() => (arrival.notify = undefined))
      return
    }
    const check = () => {
      try {
        if (plan.condition!.test(runtime.variables)) finish({ kind: 'matched' })
      } catch (error) {
        finish({ kind: 'error', error })
      }
    }
    check()
    if (!done) cleanups.push(runtime.hub.onChange(check))
  })
}

import type { StepDefinition } from './definition.js'
import { evaluateCondition } from './expression.js'
import type { IncomingMessage } from './message-hub.js'
import { triggerMismatch } from './scope.js'
import { StepError, type StepScope } from './step-scope.js'

type WaitForStep = Extract<StepDefinition, { kind: 'wait_for' }>

type Outcome =
  | { kind: 'matched'; message?: IncomingMessage }
  | { kind: 'timeout' }
  | { kind: 'interrupted' }
  | { kind: 'error'; error: unknown }

/**
 * The `wait_for` step: one yield that ends when the message arrives or the condition turns true, or at the
 * timeout. Unlike `wait`, a wait_for cut short by a lost lock waits again (for what is left of its timeout)
 * once the lock is back: what it waits for has not happened yet.
 *
 * In a wait_for's own `condition`, `wait` is the message being looked at; `trigger` is still the run's trigger.
 */
export function* waitFor(step: WaitForStep, scope: StepScope, label: string): Generator<unknown, void, unknown> {
  const deadline = step.timeout === undefined ? Infinity : performance.now() + step.timeout
  for (;;) {
    const remaining = Math.max(0, deadline - performance.now())
    const outcome = (yield waitOnce(step, scope, label, remaining)) as Outcome
    switch (outcome.kind) {
      case 'matched':
        if (outcome.message) scope.vars.wait = outcome.message
        return
      case 'timeout':
        if (step.onTimeout === 'abort') return failStep(scope, label, new Error(`timed out after ${step.timeout} ms`))
        scope.logger.debug({ step: label }, 'wait_for timed out; going on')
        return
      case 'error':
        return failStep(scope, label, outcome.error)
      case 'interrupted':
        break
    }
  }
}

function failStep(scope: StepScope, label: string, error: unknown): void {
  if (scope.onError === 'continue') {
    scope.logger.warn({ step: label, err: error }, `wait_for failed, going on (on_error: continue): ${String(error)}`)
    return
  }
  throw new StepError(label, error)
}

function waitOnce(step: WaitForStep, scope: StepScope, label: string, ms: number): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    const signal = scope.ctx.signal
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
      const timer = setTimeout(() => finish({ kind: 'timeout' }), ms)
      cleanups.push(() => clearTimeout(timer))
    }
    const trigger = step.trigger
    scope.logger.debug({ step: label }, `waiting for ${trigger ? `a message on ${trigger.topic}` : step.condition}`)
    if (trigger) {
      const contextFor = (message: IncomingMessage) => ({ ...scope.context(), wait: message })
      cleanups.push(
        scope.hub.watch(trigger.topic, (message) => {
          try {
            if (triggerMismatch(trigger, message, contextFor) === undefined) finish({ kind: 'matched', message })
          } catch (error) {
            scope.logger.warn(
              { err: error, topic: message.topic },
              `wait_for condition failed on this message: ${String(error)}`,
            )
          }
        }),
      )
      return
    }
    const check = () => {
      try {
        if (evaluateCondition(step.condition!, scope.context())) finish({ kind: 'matched' })
      } catch (error) {
        finish({ kind: 'error', error })
      }
    }
    check()
    if (!done) cleanups.push(scope.hub.onChange(check))
  })
}

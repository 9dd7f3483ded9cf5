import { applyErrorPolicy, conditionHolds } from './error-policy.js'
import type { Condition, Template } from './expression.js'
import type { CompiledStep, StepCode, StepRuntime } from './step-runtime.js'

/**
 * The steps that only choose which steps run (`if`, `choose`, `repeat`), and the list runner every nested list
 * goes through. Their nested lists come compiled: none of these walks the step tree itself.
 */

/** Runs `steps` one after the other; with someone listening to run events, each is reported as it starts and ends. */
export function stepList(steps: readonly CompiledStep[]): StepCode {
  return function* stepList(runtime) {
    for (const step of steps) {
      runtime.enter(step)
      if (runtime.events.listening) yield* reported(step, runtime)
      else yield* step.run(runtime)
    }
  }
}

function* reported(step: CompiledStep, runtime: StepRuntime): Generator<unknown, void, unknown> {
  runtime.stepEvent(step, 'start')
  runtime.continuedError = undefined
  try {
    yield* step.run(runtime)
  } catch (error) {
    if (runtime.events.listening) runtime.stepEvent(step, 'end', error)
    throw error
  }
  if (runtime.events.listening) runtime.stepEvent(step, 'end', runtime.continuedError)
  runtime.continuedError = undefined
}

export function ifStep(condition: Condition, then: StepCode, otherwise: StepCode, label: string): StepCode {
  return function* ifStep(runtime) {
    if (conditionHolds(runtime, condition, label)) yield* then(runtime)
    else yield* otherwise(runtime)
  }
}

/** `choose`: the first option whose `when` holds, else the default. */
export function chooseStep(
  options: readonly { readonly when: Condition; readonly steps: StepCode }[],
  fallback: StepCode,
  label: string,
): StepCode {
  return function* chooseStep(runtime) {
    const chosen = options.find((option) => conditionHolds(runtime, option.when, label))
    yield* (chosen?.steps ?? fallback)(runtime)
  }
}

/** A `repeat` step compiled: exactly one of `count`, `while`, `until`, `forever` is set. */
export interface RepeatPlan {
  readonly count?: number | Template
  readonly while?: Condition
  readonly until?: Condition
  readonly body: StepCode
}

export function repeatStep(plan: RepeatPlan, label: string): StepCode {
  return function* repeatStep(runtime) {
    const outer = runtime.variables.repeat
    let count = Infinity
    if (plan.count !== undefined) {
      const value = typeof plan.count === 'number' ? plan.count : plan.count.render(runtime.variables)
      count = Number(value)
      if (!Number.isInteger(count) || count < 0) {
        applyErrorPolicy(runtime, label, new RangeError(`count: expected a whole number, got ${JSON.stringify(value)}`))
        return
      }
    }
    try {
      for (let index = 0; index < count; index++) {
        runtime.variables.repeat = { index: index + 1, first: index === 0 }
        if (plan.while !== undefined && !conditionHolds(runtime, plan.while, label)) break
        const turn = eventLoopTurn()
        try {
          yield* plan.body(runtime)
        } finally {
          turn.clear()
        }
        if (plan.until !== undefined && conditionHolds(runtime, plan.until, label)) break
        // A round whose steps all finished within microtasks (log, an instant bulb, a condition already true)
        // has not let timers and I/O run: `forever` would freeze the daemon. Give the event loop one turn.
        if (!turn.happened) yield new Promise<void>((resolve) => setImmediate(resolve))
      }
    } finally {
      runtime.variables.repeat = outer
    }
  }
}

/** Tells whether the event loop has gone round (reached its check phase) since this was called. */
function eventLoopTurn(): { readonly happened: boolean; clear(): void } {
  let happened = false
  const immediate = setImmediate(() => (happened = true))
  return {
    get happened() {
      return happened
    },
    clear: () => clearImmediate(immediate),
  }
}

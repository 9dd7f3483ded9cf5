import { publishTopicProblem } from '../bus/index.js'
import { isLockError } from '../lock/index.js'
import type { StepDefinition } from './definition.js'
import { evaluateCondition, renderDeep, renderTemplate } from './expression.js'
import { runBranches } from './parallel.js'
import { setCommand } from './set-command.js'
import { INTERRUPTED, StepError, type CompiledStep, type StepScope } from './step-scope.js'
import { waitFor } from './wait-for.js'

/**
 * Compiles a step list into one generator function. Every action step is exactly one `yield` (so a preemption
 * lands between steps and `resume` continues at the next one); `if`, `choose` and `repeat` only choose which
 * steps run, with `yield*`.
 *
 * @param targets the devices a `set` without `device` addresses
 * @param path where the list is in the file, for error messages (`steps`)
 */
export function compileSteps(
  steps: readonly StepDefinition[],
  targets: readonly string[],
  path = 'steps',
): CompiledStep {
  const compiled = steps.map((step, i) => compileStep(step, targets, `${path}.${i}`))
  return function* stepList(scope) {
    for (const step of compiled) yield* step(scope)
  }
}

function compileStep(step: StepDefinition, targets: readonly string[], path: string): CompiledStep {
  const label = `${path} (${step.kind})`
  switch (step.kind) {
    case 'set': {
      const ids = step.devices ?? targets
      return (scope) =>
        action(scope, label, () => {
          const command = setCommand(step.values, scope.context())
          const origin = { holder: scope.name, token: scope.ctx.token }
          const send = (id: string) => scope.commands.track(id, scope.bulbs.get(id)!.setState(command, origin))
          return ids.length === 1 ? send(ids[0]!) : Promise.all(ids.map(send))
        })
    }
    case 'wait':
      // A wait cut short by a lost lock is over: `resume` goes on with the next step.
      return (scope) => action(scope, label, () => scope.ctx.sleep(step.ms))
    case 'publish':
      return (scope) =>
        action(scope, label, () => {
          const context = scope.context()
          const topic = String(renderTemplate(step.topic, context))
          const problem = publishTopicProblem(topic)
          if (problem) throw new TypeError(`cannot publish: ${problem}`)
          const payload = renderDeep(step.payload, context)
          const text = typeof payload === 'string' ? payload : JSON.stringify(payload)
          return scope.hub.publish(topic, text, { retain: step.retain, qos: step.qos })
        })
    case 'log':
      return (scope) =>
        action(scope, label, () => {
          scope.logger[step.level]({ step: path }, String(renderTemplate(step.message, scope.context())))
          return undefined
        })
    case 'wait_for':
      return function* waitForStep(scope) {
        scope.markRunning()
        yield* waitFor(step, scope, label)
      }
    case 'if': {
      const then = compileSteps(step.then, targets, `${path}.then`)
      const otherwise = compileSteps(step.else, targets, `${path}.else`)
      return function* ifStep(scope) {
        if (test(scope, step.condition, label)) yield* then(scope)
        else yield* otherwise(scope)
      }
    }
    case 'choose': {
      const options = step.options.map((option, i) => ({
        when: option.when,
        steps: compileSteps(option.steps, targets, `${path}.choose.${i}.steps`),
      }))
      const fallback = compileSteps(step.default, targets, `${path}.default`)
      return function* chooseStep(scope) {
        const chosen = options.find((option) => test(scope, option.when, label))
        yield* (chosen?.steps ?? fallback)(scope)
      }
    }
    case 'repeat':
      return compileRepeat(step, compileSteps(step.steps, targets, `${path}.repeat.steps`), label)
    case 'parallel': {
      const branches = step.branches.map((branch, i) =>
        compileSteps(branch.steps, branch.devices ?? targets, `${path}.parallel.${i}.steps`),
      )
      return function* parallelStep(scope) {
        scope.markRunning()
        yield* runBranches(branches, scope)
      }
    }
  }
}

function compileRepeat(
  step: Extract<StepDefinition, { kind: 'repeat' }>,
  body: CompiledStep,
  label: string,
): CompiledStep {
  return function* repeatStep(scope) {
    const outer = scope.vars.repeat
    let count = Infinity
    if (step.count !== undefined) {
      const value = typeof step.count === 'string' ? renderTemplate(step.count, scope.context()) : step.count
      count = Number(value)
      if (!Number.isInteger(count) || count < 0) {
        yield* fail(scope, label, new RangeError(`count: expected a whole number, got ${JSON.stringify(value)}`))
        return
      }
    }
    try {
      for (let index = 0; index < count; index++) {
        scope.vars.repeat = { index: index + 1, first: index === 0 }
        if (step.while !== undefined && !test(scope, step.while, label)) break
        const turn = eventLoopTurn()
        try {
          yield* body(scope)
        } finally {
          turn.clear()
        }
        if (step.until !== undefined && test(scope, step.until, label)) break
        // A round whose steps all finished within microtasks (log, an instant bulb, a condition already true)
        // has not let timers and I/O run: `forever` would freeze the daemon. Give the event loop one turn.
        if (!turn.happened) yield new Promise<void>((resolve) => setImmediate(resolve))
      }
    } finally {
      scope.vars.repeat = outer
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

/**
 * Runs one action: `start` makes its promise (or value), which is yielded once. A failure is wrapped in a
 * StepError and ends the run, or, with `on_error: continue`, is logged and skipped. Lock errors always pass
 * through: they are the lock core's business.
 */
function* action(scope: StepScope, label: string, start: () => unknown): Generator<unknown, void, unknown> {
  for (;;) {
    scope.markRunning()
    let pending: unknown
    try {
      pending = start()
    } catch (error) {
      if (scope.inBranch && isLockError(error, 'FENCED')) {
        // The lock went between the branch runner's check and this call; try again once it is back.
        yield INTERRUPTED
        continue
      }
      return yield* fail(scope, label, error)
    }
    try {
      yield pending
      return
    } catch (error) {
      return yield* fail(scope, label, error)
    }
  }
}

/** Applies the automation's error policy to a step failure. */
// A generator that never yields, so callers can `yield*` it where they handle errors.
function* fail(scope: StepScope, label: string, error: unknown): Generator<never, void, unknown> {
  if (isLockError(error)) throw error
  if (scope.onError === 'continue') {
    scope.logger.warn({ step: label, err: error }, `step failed, going on (on_error: continue): ${String(error)}`)
    return
  }
  throw error instanceof StepError ? error : new StepError(label, error)
}

/** Evaluates a condition; an evaluation error is a step failure (false under `on_error: continue`). */
function test(scope: StepScope, condition: string, label: string): boolean {
  try {
    return evaluateCondition(condition, scope.context())
  } catch (error) {
    if (scope.onError === 'continue') {
      scope.logger.warn({ step: label, err: error }, `condition failed, taken as false: ${String(error)}`)
      return false
    }
    throw new StepError(label, error)
  }
}

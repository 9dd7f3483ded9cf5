import type { StepDefinition, StepOf } from './definition.js'

/** Where a nested step list sits inside its step. */
export interface ChildPosition {
  /** Its field path from the step, as written in the file: `['then']`, `['choose', 0, 'steps']`. */
  readonly path: readonly (string | number)[]
  /** The devices a `set` without `device` addresses inside it, when the list narrows them (a parallel branch). */
  readonly devices?: readonly string[]
}

/**
 * Builds `step` again with each nested step list replaced by `map(list, position)`, in file order. This is the
 * one place that knows where each step kind keeps nested steps: the parser, the compiler and every walk of the
 * step tree go through it, so a new kind that holds steps cannot be skipped by one of them (leaving it out of
 * the switch below is a type error).
 *
 * @example
 * const compiled = mapChildSteps(step, (list, at) => compileList(list, at.devices ?? targets))
 */
export function mapChildSteps<A, B>(step: StepOf<A>, map: (list: A, at: ChildPosition) => B): StepOf<B> {
  switch (step.kind) {
    case 'set':
    case 'wait':
    case 'wait_for':
    case 'publish':
    case 'log':
      return step
    case 'repeat':
      return { ...step, steps: map(step.steps, { path: ['repeat', 'steps'] }) }
    case 'if': {
      const then = map(step.then, { path: ['then'] })
      return { ...step, then, else: map(step.else, { path: ['else'] }) }
    }
    case 'choose': {
      const options = step.options.map((option, i) => ({
        ...option,
        steps: map(option.steps, { path: ['choose', i, 'steps'] }),
      }))
      return { ...step, options, default: map(step.default, { path: ['default'] }) }
    }
    case 'parallel':
      return {
        ...step,
        branches: step.branches.map((branch, i) => {
          const at = { path: ['parallel', i, 'steps'], ...(branch.devices ? { devices: branch.devices } : {}) }
          return { ...branch, steps: map(branch.steps, at) }
        }),
      }
    default:
      return unknownKind(step)
  }
}

/** The step lists directly inside `step`, with where each is. */
export function childSteps<List>(step: StepOf<List>): { readonly steps: List; readonly at: ChildPosition }[] {
  const lists: { steps: List; at: ChildPosition }[] = []
  mapChildSteps(step, (steps, at) => {
    lists.push({ steps, at })
    return steps
  })
  return lists
}

/**
 * Calls `visit` for every step in `steps` and in every list nested in them, depth first in file order, with the
 * step's field path (`steps.0.then.1`).
 */
export function walkSteps(
  steps: readonly StepDefinition[],
  visit: (step: StepDefinition, path: string) => void,
  path = 'steps',
): void {
  steps.forEach((step, i) => {
    const here = `${path}.${i}`
    visit(step, here)
    for (const child of childSteps(step)) walkSteps(child.steps, visit, `${here}.${child.at.path.join('.')}`)
  })
}

function unknownKind(step: never): never {
  throw new TypeError(`unknown step kind '${(step as { kind?: unknown }).kind}'`)
}

/** A step path as `walkSteps` gives it, as a field path in the file: `steps.0.then.1` → `['steps', 0, 'then', 1]`. */
export function stepFieldPath(path: string): (string | number)[] {
  return path.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part))
}

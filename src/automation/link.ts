import type { AutomationDefinition } from './definition.js'
import { walkSteps } from './step-tree.js'

/** An automation with its references to other automations resolved. */
export interface LinkedAutomation {
  readonly definition: AutomationDefinition
  /** For `on_preempt: { replace }`: the automation whose steps take over, or why it cannot. */
  readonly replacement?: LinkedReplacement
}

export type LinkedReplacement =
  { readonly ok: true; readonly definition: AutomationDefinition } | { readonly ok: false; readonly problem: string }

/** Something only the whole set of automations shows, about one field of one of them. */
export interface LinkProblem {
  readonly automation: AutomationDefinition
  /** The field's path in the automation's file, e.g. `['on_preempt', 'replace']`. */
  readonly field: readonly string[]
  readonly message: string
}

export interface LinkResult {
  /** Every automation but the second (and later) of a duplicated name; those with problems included. */
  readonly automations: readonly LinkedAutomation[]
  readonly problems: readonly LinkProblem[]
}

/**
 * The link stage: resolves what one automation says about another, once, for a whole set — names must be unique
 * (the first keeps it), and `on_preempt: { replace: <name> }` must name an automation of the set that addresses
 * only devices this one locks (its steps run under this one's lock).
 */
export function linkAutomations(definitions: readonly AutomationDefinition[]): LinkResult {
  const problems: LinkProblem[] = []
  const byName = new Map<string, AutomationDefinition>()
  for (const definition of definitions) {
    const first = byName.get(definition.name)
    if (!first) byName.set(definition.name, definition)
    else
      problems.push({
        automation: definition,
        field: ['name'],
        message: `automation name '${definition.name}' is already used by ${first.file}`,
      })
  }
  const automations = [...byName.values()].map((definition): LinkedAutomation => {
    const policy = definition.onPreempt
    if (typeof policy !== 'object') return { definition }
    const replacement = resolveReplacement(definition, byName.get(policy.replace), policy.replace)
    if (!replacement.ok) {
      problems.push({ automation: definition, field: ['on_preempt', 'replace'], message: replacement.problem })
    }
    return { definition, replacement }
  })
  return { automations, problems }
}

function resolveReplacement(
  definition: AutomationDefinition,
  target: AutomationDefinition | undefined,
  name: string,
): LinkedReplacement {
  if (!target) return { ok: false, problem: `no automation named '${name}' to replace with` }
  const outside = [...devicesNamedIn(target)].filter((id) => !definition.devices.includes(id))
  if (outside.length > 0) {
    return {
      ok: false,
      problem: `'${target.name}' addresses ${outside.join(', ')}, which '${definition.name}' does not lock`,
    }
  }
  return { ok: true, definition: target }
}

/** The devices the steps of `definition` name themselves (`set.device`, a parallel branch's `device`). */
function devicesNamedIn(definition: AutomationDefinition): Set<string> {
  const named = new Set<string>()
  walkSteps(definition.steps, (step) => {
    if (step.kind === 'set') step.devices?.forEach((id) => named.add(id))
    if (step.kind === 'parallel') for (const branch of step.branches) branch.devices?.forEach((id) => named.add(id))
  })
  return named
}

import type { FieldPath } from '../config/yaml-source.js'
import type { AutomationDefinition, TriggerDefinition } from './definition.js'
import { unseenChanges, type DeviceFacts } from './device-facts.js'
import type { Location } from './schedule.js'
import { stepFieldPath, walkSteps } from './step-tree.js'
import { SUN_NEEDS_LOCATION } from './trigger-match.js'

/** An automation with its references to other automations resolved. */
export interface LinkedAutomation {
  readonly definition: AutomationDefinition
  /** For `on_preempt: { replace }`: the automation whose steps take over, or why it cannot. */
  readonly replacement?: LinkedReplacement
}

export type LinkedReplacement =
  { readonly ok: true; readonly definition: AutomationDefinition } | { readonly ok: false; readonly problem: string }

/** Something only the whole set of automations (or the setting they run in) shows, about one field of one. */
export interface LinkProblem {
  readonly automation: AutomationDefinition
  /** The field's path in the automation's file, e.g. `['on_preempt', 'replace']`. */
  readonly field: FieldPath
  readonly message: string
}

/** What the automations run in, beyond each other: from config.yaml and the device files. */
export interface LinkSetting {
  /** config.yaml `location`: without it a sun trigger is a problem. Checked only when `checkLocation` is true. */
  readonly location?: Location | undefined
  readonly checkLocation?: boolean
  /** The devices as their files describe them: for the warnings about state triggers and `wait_for` topics. */
  readonly devices?: readonly DeviceFacts[]
  /** `mqtt.base_topic`: genlock's own topics count as published. */
  readonly baseTopic?: string
}

export interface LinkResult {
  /** Every automation but the second (and later) of a duplicated name; those with problems included. */
  readonly automations: readonly LinkedAutomation[]
  /** What keeps an automation from working: its file is not loaded. */
  readonly problems: readonly LinkProblem[]
  /** What is probably a mistake but runs: shown by `genlock validate` and logged on load. */
  readonly warnings: readonly LinkProblem[]
}

/**
 * The link stage: resolves what one automation says about another, once, for a whole set — names must be unique
 * (the first keeps it), and `on_preempt: { replace: <name> }` must name an automation of the set that addresses
 * only devices this one locks (its steps run under this one's lock); sun triggers need a location. It also warns
 * of what runs but is probably a mistake: two automations at one priority sharing a bulb, a `wait_for` on a topic
 * nothing in the config publishes or triggers on, a state trigger on a device that does not report changes.
 */
export function linkAutomations(definitions: readonly AutomationDefinition[], setting: LinkSetting = {}): LinkResult {
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
    if (setting.checkLocation && !setting.location) problems.push(...sunTriggers(definition))
    const policy = definition.onPreempt
    if (typeof policy !== 'object') return { definition }
    const replacement = resolveReplacement(definition, byName.get(policy.replace), policy.replace)
    if (!replacement.ok) {
      problems.push({ automation: definition, field: ['on_preempt', 'replace'], message: replacement.problem })
    }
    return { definition, replacement }
  })
  const linked = automations.map((automation) => automation.definition)
  const warnings = [
    ...samePriority(linked),
    ...unpublishedWaits(linked, setting),
    ...(setting.devices ? unseenStates(linked, setting.devices) : []),
  ]
  return { automations, problems, warnings }
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

/** Each trigger and stop of `definition` with its field path (as the file has them: a list, or one map). */
function triggersOf(definition: AutomationDefinition): { trigger: TriggerDefinition; field: FieldPath }[] {
  return (['trigger', 'stop'] as const).flatMap((list) =>
    definition[list].map((trigger, i) => ({ trigger, field: [list, i] })),
  )
}

function sunTriggers(definition: AutomationDefinition): LinkProblem[] {
  return triggersOf(definition)
    .filter(({ trigger }) => trigger.kind === 'sun')
    .map(({ field }) => ({ automation: definition, field: [...field, 'sun'], message: SUN_NEEDS_LOCATION }))
}

/** Two automations at one priority on a shared bulb: the one that starts second waits for the first to end. */
function samePriority(definitions: readonly AutomationDefinition[]): LinkProblem[] {
  const warnings: LinkProblem[] = []
  definitions.forEach((later, j) => {
    const earlier = definitions
      .slice(0, j)
      .find((one) => one.priority === later.priority && one.devices.some((id) => later.devices.includes(id)))
    if (!earlier) return
    const shared = earlier.devices.filter((id) => later.devices.includes(id)).join(', ')
    warnings.push({
      automation: later,
      field: ['priority'],
      message:
        `'${earlier.name}' (${earlier.file}) also has priority ${later.priority} and locks ${shared}: neither can ` +
        `take the bulb from the other, so whichever starts second only waits; give one a higher priority`,
    })
  })
  return warnings
}

/** `wait_for` topics that no publish step, trigger, stop, device or genlock itself uses: a typo, most likely. */
function unpublishedWaits(definitions: readonly AutomationDefinition[], setting: LinkSetting): LinkProblem[] {
  const known: string[] = setting.baseTopic ? [`${setting.baseTopic}/#`] : []
  for (const device of setting.devices ?? []) {
    if (device.topic) known.push(device.topic, `${device.topic}/#`, `+/${device.topic}/#`)
  }
  for (const definition of definitions) {
    for (const { trigger } of triggersOf(definition)) if (trigger.kind === 'mqtt') known.push(trigger.topic)
    walkSteps(definition.steps, (step) => {
      if (step.kind === 'publish') known.push(asFilter(step.topic))
    })
  }
  const warnings: LinkProblem[] = []
  for (const definition of definitions) {
    walkSteps(definition.steps, (step, path) => {
      if (step.kind !== 'wait_for' || !step.trigger) return
      const topic = step.trigger.topic
      if (known.some((other) => filtersOverlap(topic, other))) return
      warnings.push({
        automation: definition,
        field: [...stepFieldPath(path), 'wait_for', 'mqtt'],
        message:
          `nothing in the config publishes or triggers on '${topic}' (no publish step, trigger, stop or device ` +
          `uses it): a typo? If something outside genlock publishes it, all is well`,
      })
    })
  }
  return warnings
}

/** State triggers and stops on devices whose changes genlock does not hear of. */
function unseenStates(definitions: readonly AutomationDefinition[], devices: readonly DeviceFacts[]): LinkProblem[] {
  const byId = new Map(devices.map((device) => [device.id, device]))
  return definitions.flatMap((definition) =>
    triggersOf(definition).flatMap(({ trigger, field }) => {
      const device = trigger.kind === 'state' ? byId.get(trigger.device) : undefined
      const why = device && unseenChanges(device)
      if (!why) return []
      return [
        {
          automation: definition,
          field: [...field, 'state', 'device'],
          message: `'${device.id}' cannot report changes made outside genlock: ${why}; this trigger only sees genlock's own commands`,
        },
      ]
    }),
  )
}

/** A publish topic with templates as a filter: a level with `{{ }}` in it could be anything (`+`). */
function asFilter(topic: string): string {
  return topic
    .split('/')
    .map((level) => (level.includes('{{') ? '+' : level))
    .join('/')
}

/** True when some topic matches both MQTT filters. */
function filtersOverlap(a: string, b: string): boolean {
  const left = a.split('/')
  const right = b.split('/')
  for (let i = 0; ; i++) {
    const x = left[i]
    const y = right[i]
    if (x === '#' || y === '#') return true
    if (x === undefined || y === undefined) return x === y
    if (x !== y && x !== '+' && y !== '+') return false
  }
}

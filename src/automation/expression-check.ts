import type { FieldPath } from '../config/yaml-source.js'
import type { ConditionDefinition, StepDefinition, TriggerDefinition, TriggerKind } from './definition.js'
import { DEVICE_FIELDS } from './expression-context.js'
import { syntaxTrees } from './expression.js'
import type { ProblemSink } from './parse-steps.js'
import { stepFieldPath, walkSteps } from './step-tree.js'
import { closest } from './suggest.js'

/**
 * Checks, at load time, that every expression of an automation reads variables that exist where it runs:
 * `trigger.jsn` (a typo), `trigger.payload_json` (Home Assistant's name), `trigger.device` in an automation no
 * state trigger starts, `device.<unknown id>`, `now.hours`. What `trigger` holds depends on what started the run,
 * so a trigger's own condition is checked against its kind, and steps against every kind that can start them
 * (the `<base>/automation/<name>/set` command always can, with its message).
 */

/** The fields `trigger` has, by what started the run (`message`: an MQTT trigger or the set command). */
const TRIGGER_FIELDS: Readonly<Record<TriggerKind | 'message', readonly string[]>> = {
  mqtt: ['topic', 'payload', 'json', 'retain'],
  message: ['topic', 'payload', 'json', 'retain'],
  at: ['kind', 'scheduled', 'timestamp', 'catch_up'],
  cron: ['kind', 'scheduled', 'timestamp', 'catch_up'],
  sun: ['kind', 'scheduled', 'timestamp', 'catch_up', 'event'],
  state: ['kind', 'device', 'from', 'to', 'state'],
}

/** Home Assistant's names for what `trigger` has here. */
const HOME_ASSISTANT_NAMES: Readonly<Record<string, string>> = {
  payload_json: 'trigger.json',
  platform: 'trigger.kind',
  entity_id: 'trigger.device',
  to_state: 'trigger.to (and trigger.state)',
  from_state: 'trigger.from',
  now: 'now (a variable of its own)',
}

const VARIABLES = ['trigger', 'wait', 'repeat', 'device', 'now', 'last', 'last_json', 'automation']
const MESSAGE_FIELDS = TRIGGER_FIELDS.message
const REPEAT_FIELDS = ['index', 'first']
const NOW_FIELDS = [
  'year',
  'month',
  'day',
  'hour',
  'minute',
  'second',
  'weekday',
  'isoweekday',
  'date',
  'time',
  'iso',
  'timestamp',
]

/** What the expressions of one place can read. */
interface Scope {
  /** The kinds of trigger that can start a run here. */
  readonly kinds: readonly (TriggerKind | 'message')[]
  readonly devices: ReadonlySet<string>
}

/**
 * Reports every expression in `triggers`, `stops` and `steps` that reads a variable or field that does not exist
 * there, at the expression's field. `devices`: every device id known.
 */
export function checkExpressionVariables(
  parts: { readonly trigger: readonly TriggerDefinition[]; readonly stop: readonly TriggerDefinition[] },
  steps: readonly StepDefinition[],
  devices: ReadonlySet<string>,
  report: ProblemSink,
): void {
  for (const list of ['trigger', 'stop'] as const) {
    parts[list].forEach((trigger, i) => {
      if (trigger.condition === undefined) return
      const scope = { kinds: [trigger.kind], devices }
      for (const at of conditionSources(trigger.condition, [list, i, 'condition'])) check(at, false, scope, report)
    })
  }
  const scope: Scope = {
    kinds: [...new Set([...parts.trigger.map((trigger) => trigger.kind), 'message' as const])],
    devices,
  }
  walkSteps(steps, (step, path) => {
    const here = stepFieldPath(path)
    for (const found of stepExpressions(step)) {
      check({ path: [...here, ...found.path], source: found.source }, found.template, scope, report)
    }
  })
}

interface Found {
  readonly path: FieldPath
  readonly source: string
}

function check(found: Found, template: boolean, scope: Scope, report: ProblemSink): void {
  for (const tree of syntaxTrees(found.source, template)) {
    const problem = firstProblem(tree, scope)
    if (problem) {
      report(found.path, problem)
      return
    }
  }
}

/** The expressions of one step (not of its nested steps), with their fields. */
function stepExpressions(step: StepDefinition): (Found & { readonly template: boolean })[] {
  const templates = (entries: [FieldPath, unknown][]) =>
    entries.flatMap(([path, value]) =>
      typeof value === 'string' && value.includes('{{') ? [{ path, source: value, template: true }] : [],
    )
  const conditions = (definition: ConditionDefinition | undefined, path: FieldPath) =>
    definition === undefined ? [] : conditionSources(definition, path).map((at) => ({ ...at, template: false }))
  switch (step.kind) {
    case 'set': {
      const { on, brightness, color, colorTemp, transition } = step.values
      return templates([
        [['set', 'on'], on],
        [['set', 'brightness'], brightness],
        [['set', 'color'], color],
        [['set', 'color_temp'], colorTemp],
        [['set', 'transition'], transition],
      ])
    }
    case 'repeat':
      return [
        ...templates([[['repeat', 'count'], step.count]]),
        ...conditions(step.while, ['repeat', 'while']),
        ...conditions(step.until, ['repeat', 'until']),
      ]
    case 'wait_for':
      return conditions(step.condition ?? step.trigger?.condition, ['wait_for', 'condition'])
    case 'if':
      return conditions(step.condition, ['if'])
    case 'choose':
      return step.options.flatMap((option, i) => conditions(option.when, ['choose', i, 'when']))
    case 'publish':
      return templates([[['publish', 'topic'], step.topic], ...deepStrings(step.payload, ['publish', 'payload'])])
    case 'log':
      return templates([[['log', 'message'], step.message]])
    case 'wait':
    case 'parallel':
      return []
  }
}

function deepStrings(value: unknown, path: FieldPath): [FieldPath, unknown][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => deepStrings(item, [...path, i]))
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => deepStrings(item, [...path, key]))
  }
  return [[path, value]]
}

/** The expressions of a condition (time windows have none). */
function conditionSources(definition: ConditionDefinition, path: FieldPath): Found[] {
  if (typeof definition === 'string') return [{ path, source: definition }]
  if (Array.isArray(definition)) {
    return (definition as readonly ConditionDefinition[]).flatMap((item, i) => conditionSources(item, [...path, i]))
  }
  return [] // a time window: nothing to read
}

/** The first variable in a syntax tree that does not exist in `scope`, as a message; undefined when all do. */
function firstProblem(node: unknown, scope: Scope): string | undefined {
  if (node === null || typeof node !== 'object') return undefined
  const chain = variableChain(node)
  if (chain) {
    const problem = chainProblem(chain, scope)
    if (problem) return problem
  }
  for (const child of Object.values(node)) {
    const problem = Array.isArray(child)
      ? child.map((item) => firstProblem(item, scope)).find(Boolean)
      : firstProblem(child, scope)
    if (problem) return problem
  }
  return undefined
}

/**
 * `trigger.json.level` or `trigger['json'].level` as `['trigger', 'json', 'level']`; undefined for anything that is
 * not a plain variable path (a computed index, a relative `[.x]` filter, a literal).
 */
function variableChain(node: object): string[] | undefined {
  const parts: string[] = []
  let here = node as Record<string, unknown>
  for (;;) {
    if (here.type === 'Identifier' && !here.relative && typeof here.value === 'string') {
      parts.unshift(here.value)
      if (!here.from) return parts
      here = here.from as Record<string, unknown>
      continue
    }
    const expr = here.expr as { type?: unknown; value?: unknown } | undefined
    if (
      here.type === 'FilterExpression' &&
      !here.relative &&
      expr?.type === 'Literal' &&
      typeof expr.value === 'string'
    ) {
      parts.unshift(expr.value)
      here = here.subject as Record<string, unknown>
      continue
    }
    return undefined
  }
}

function chainProblem(chain: readonly string[], scope: Scope): string | undefined {
  const [root, field, inner] = chain as [string, string | undefined, string | undefined]
  const fieldOf = (allowed: readonly string[], what: string) => {
    if (field === undefined || allowed.includes(field)) return undefined
    return `${what}.${field} does not exist${suggest(field, allowed, what)}; ${what} has ${list(allowed, what)}`
  }
  switch (root) {
    case 'trigger':
      return triggerProblem(field, inner, scope)
    case 'wait':
      return fieldOf(MESSAGE_FIELDS, 'wait')
    case 'repeat':
      return fieldOf(REPEAT_FIELDS, 'repeat')
    case 'now':
      return fieldOf(NOW_FIELDS, 'now')
    case 'device': {
      if (field === undefined) return undefined
      if (!scope.devices.has(field)) {
        const known = [...scope.devices].sort()
        return `device.${field}: no device '${field}'${suggest(field, known, 'device')}; known devices: ${known.join(', ') || 'none'}`
      }
      if (inner === undefined || DEVICE_FIELDS.includes(inner)) return undefined
      return `device.${field}.${inner} does not exist${suggest(inner, DEVICE_FIELDS, `device.${field}`)}; a device has ${list(DEVICE_FIELDS, `device.${field}`)}`
    }
    case 'last':
    case 'last_json':
    case 'automation':
      return undefined
    default: {
      const guess = closest(root, VARIABLES)
      return `unknown variable '${root}'${guess ? ` (did you mean '${guess}'?)` : ''}: expressions read ${VARIABLES.join(', ')}`
    }
  }
}

function triggerProblem(field: string | undefined, inner: string | undefined, scope: Scope): string | undefined {
  if (field === undefined) return undefined
  const given = [...new Set(scope.kinds.flatMap((kind) => TRIGGER_FIELDS[kind]))]
  if (given.includes(field)) {
    if (field !== 'state' || inner === undefined || DEVICE_FIELDS.includes(inner)) return undefined
    return `trigger.state.${inner} does not exist${suggest(inner, DEVICE_FIELDS, 'trigger.state')}; trigger.state has ${list(DEVICE_FIELDS, 'trigger.state')}`
  }
  const kinds = scope.kinds.map((kind) => (kind === 'message' ? 'the set command' : kind)).join(', ')
  const gives = `here trigger has ${list(given, 'trigger')} (started by ${kinds})`
  const homeAssistant = HOME_ASSISTANT_NAMES[field]
  if (homeAssistant) return `trigger.${field} is Home Assistant's name; genlock's is ${homeAssistant}. ${cap(gives)}`
  const elsewhere = (Object.keys(TRIGGER_FIELDS) as (TriggerKind | 'message')[]).filter(
    (kind) => kind !== 'message' && TRIGGER_FIELDS[kind].includes(field),
  )
  if (elsewhere.length > 0) return `trigger.${field} is only set by ${elsewhere.join(' and ')} triggers; ${gives}`
  return `trigger.${field} does not exist${suggest(field, given, 'trigger')}; ${gives}`
}

function suggest(word: string, candidates: readonly string[], prefix: string): string {
  const guess = closest(word, candidates)
  return guess ? ` (did you mean ${prefix}.${guess}?)` : ''
}

function list(fields: readonly string[], prefix: string): string {
  return fields.map((field) => `${prefix}.${field}`).join(', ')
}

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

import type { FieldPath } from '../config/yaml-source.js'
import { TRIGGER_KINDS, triggerBodies } from './automation-schema.js'
import type { TriggerDefinition } from './definition.js'
import { parseField, type ProblemSink } from './parse-steps.js'
import { closest } from './suggest.js'

/**
 * Reads a `trigger:` or `stop:` value: one trigger or a list. Each item is read by the schema of the kind its key
 * names (`mqtt`, `at`, `cron`, `sun`, `state`), so an item with none of them is told which kinds there are, and a
 * mistake in one is reported at its own field.
 */
export function parseTriggers(
  raw: unknown,
  path: FieldPath,
  report: ProblemSink,
  knownDevices: ReadonlySet<string>,
): TriggerDefinition[] {
  if (raw === undefined || raw === null) return []
  const items = Array.isArray(raw) ? raw.map((item, i) => [item, [...path, i]] as const) : [[raw, path] as const]
  return items.flatMap(([item, at]) => {
    const trigger = parseTrigger(item, at, report)
    if (trigger?.kind === 'state' && !knownDevices.has(trigger.device)) {
      const known = [...knownDevices].sort().join(', ') || 'none'
      report([...at, 'state', 'device'], `unknown device '${trigger.device}' (known devices: ${known})`)
      return []
    }
    return trigger ? [trigger] : []
  })
}

const KINDS_TEXT = TRIGGER_KINDS.join(', ')

function parseTrigger(raw: unknown, path: FieldPath, report: ProblemSink): TriggerDefinition | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    report(path, `expected a trigger (a map such as "mqtt: home/door" or "at: '07:00'"), got ${JSON.stringify(raw)}`)
    return undefined
  }
  const keys = Object.keys(raw)
  const kinds = TRIGGER_KINDS.filter((kind) => keys.includes(kind))
  if (kinds.length === 0) {
    const key = keys[0] ?? ''
    const guess = closest(key, TRIGGER_KINDS)
    report(
      [...path, key],
      `unknown trigger '${key}': expected one of ${KINDS_TEXT}${guess ? ` (did you mean '${guess}'?)` : ''}`,
    )
    return undefined
  }
  if (kinds.length > 1) {
    report([...path, kinds[1]!], `a trigger is of one kind; found ${kinds.join(' and ')} (make them two triggers)`)
    return undefined
  }
  const kind = kinds[0]!
  return parseField(triggerBodies[kind], raw, path, report, (key) => `unknown field '${key}' in a ${kind} trigger`)
}

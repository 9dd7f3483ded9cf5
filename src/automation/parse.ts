import { ConfigError, type ConfigProblem } from '../config/problems.js'
import { YamlSource, type FieldPath } from '../config/yaml-source.js'
import { automationFile, deviceIds, type AutomationFile } from './automation-schema.js'
import type { AutomationDefinition } from './definition.js'
import { StepParser } from './parse-steps.js'
import { parseTriggers } from './parse-triggers.js'
import { checkExpressionVariables } from './expression-check.js'

/**
 * One automation file after the parse stage: its definition, and where its fields are in the file, so a problem
 * that only a later stage finds (link: duplicate names, `replace` targets) still names file, line and column
 * without reading the file again.
 */
export interface ParsedAutomation {
  readonly definition: AutomationDefinition
  /** A problem about the field at `path` (e.g. `['on_preempt', 'replace']`), located in this file. */
  problem(path: FieldPath, message: string): ConfigProblem
}

/**
 * Parses one automation file (or `text`, reported as `file`). Throws a ConfigError listing every problem:
 * YAML syntax, wrong types, unknown fields or steps, devices not in `knownDeviceIds`, bad expressions.
 */
export function parseAutomationFile(
  file: string,
  knownDeviceIds: ReadonlySet<string>,
  text?: string,
): AutomationDefinition {
  return parseAutomationSource(file, knownDeviceIds, text).definition
}

/** `parseAutomationFile`, keeping the field positions for the link stage. */
export function parseAutomationSource(
  file: string,
  knownDeviceIds: ReadonlySet<string>,
  text?: string,
): ParsedAutomation {
  const source = YamlSource.parse(file, text)
  const problems: ConfigProblem[] = []
  const report = (path: FieldPath, message: string) => problems.push(source.problem(path, message))
  let top: AutomationFile | undefined
  try {
    top = source.validate(automationFile)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    problems.push(...error.problems)
  }
  // Steps are checked even when the top level is wrong, so one run of `validate` lists every problem.
  const raw = (source.data ?? {}) as { devices?: unknown; steps?: unknown; trigger?: unknown; stop?: unknown }
  const devices = top?.devices ?? deviceIds.safeParse(raw.devices).data ?? []
  devices.forEach((id, i) => {
    if (!knownDeviceIds.has(id)) {
      const known = [...knownDeviceIds].sort().join(', ') || 'none'
      report(
        Array.isArray(raw.devices) ? ['devices', i] : ['devices'],
        `unknown device '${id}' (known devices: ${known})`,
      )
    }
  })
  const trigger = parseTriggers(raw.trigger, ['trigger'], report, knownDeviceIds)
  const stop = parseTriggers(raw.stop, ['stop'], report, knownDeviceIds)
  stop.forEach((item, i) => {
    if ('catchUp' in item && item.catchUp !== undefined) {
      report(
        Array.isArray(raw.stop) ? ['stop', i, 'catch_up'] : ['stop', 'catch_up'],
        'catch_up is for triggers: after a restart there is no run for a stop to end',
      )
    }
  })
  const steps = Array.isArray(raw.steps) ? new StepParser(report, devices).parseList(raw.steps, ['steps']) : []
  checkExpressionVariables({ trigger, stop }, steps, knownDeviceIds, report)
  if (problems.length > 0 || !top) throw new ConfigError(problems)
  const definition: AutomationDefinition = {
    name: top.name,
    ...(top.description === undefined ? {} : { description: top.description }),
    enabled: top.enabled,
    priority: top.priority,
    devices: top.devices,
    trigger,
    stop,
    onPreempt: top.on_preempt,
    onError: top.on_error,
    restore: top.restore,
    lock: {
      ...(top.lock.ttl === undefined ? {} : { ttl: top.lock.ttl }),
      ...(top.lock.acquire_timeout === undefined ? {} : { acquireTimeout: top.lock.acquire_timeout }),
      ...(top.lock.outage_wait === undefined ? {} : { outageWait: top.lock.outage_wait }),
    },
    mode: top.mode,
    max: top.max,
    steps,
    file,
  }
  return { definition, problem: (path, message) => source.problem(path, message) }
}

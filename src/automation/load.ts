import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError, type ConfigProblem } from '../config/problems.js'
import { YamlSource } from '../config/yaml-source.js'
import type { AutomationDefinition, StepDefinition } from './definition.js'
import { automationFile, deviceIds, type AutomationFile } from './schema.js'
import { StepParser } from './steps-parse.js'

/** What loading a folder of automations found: the good definitions, and every problem in the bad files. */
export interface AutomationLoadResult {
  readonly definitions: AutomationDefinition[]
  readonly problems: ConfigProblem[]
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
  const source = YamlSource.parse(file, text)
  const problems: ConfigProblem[] = []
  const report = (path: readonly PropertyKey[], message: string) => problems.push(source.problem(path, message))
  let top: AutomationFile | undefined
  try {
    top = source.validate(automationFile)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    problems.push(...error.problems)
  }
  // Steps are checked even when the top level is wrong, so one run of `validate` lists every problem.
  const raw = (source.data ?? {}) as { devices?: unknown; steps?: unknown }
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
  const steps = Array.isArray(raw.steps) ? new StepParser(report, devices).parseList(raw.steps, ['steps']) : []
  if (problems.length > 0 || !top) throw new ConfigError(problems)
  const definition: AutomationDefinition = {
    name: top.name,
    ...(top.description === undefined ? {} : { description: top.description }),
    enabled: top.enabled,
    priority: top.priority,
    devices: top.devices,
    trigger: top.trigger,
    stop: top.stop,
    onPreempt: top.on_preempt,
    onError: top.on_error,
    restore: top.restore,
    lock: {
      ...(top.lock.ttl === undefined ? {} : { ttl: top.lock.ttl }),
      ...(top.lock.acquire_timeout === undefined ? {} : { acquireTimeout: top.lock.acquire_timeout }),
    },
    mode: top.mode,
    max: top.max,
    steps,
    file,
  }
  return definition
}

/**
 * Reads every `*.yaml`/`*.yml` file in `dir` as one automation. Files with problems are left out of
 * `definitions`; their problems (file:line:col field: message) are all in `problems`. Also checks what only the
 * whole set shows: duplicate names, and `on_preempt: { replace }` naming a missing automation or devices the
 * replaced one does not lock.
 */
export function readAutomationFiles(dir: string, knownDeviceIds: ReadonlySet<string>): AutomationLoadResult {
  let files: string[]
  try {
    files = readdirSync(dir)
      .filter((name) => /\.ya?ml$/i.test(name))
      .sort()
      .map((name) => join(dir, name))
  } catch (error) {
    return {
      definitions: [],
      problems: [
        {
          file: dir,
          line: 0,
          column: 0,
          field: '',
          message: `cannot read automations folder: ${(error as Error).message}`,
        },
      ],
    }
  }
  const problems: ConfigProblem[] = []
  const loaded: AutomationDefinition[] = []
  for (const file of files) {
    try {
      loaded.push(parseAutomationFile(file, knownDeviceIds))
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      problems.push(...error.problems)
    }
  }
  const definitions = checkAcrossFiles(loaded, problems)
  return { definitions, problems }
}

function checkAcrossFiles(loaded: AutomationDefinition[], problems: ConfigProblem[]): AutomationDefinition[] {
  const byName = new Map<string, AutomationDefinition>()
  const good: AutomationDefinition[] = []
  for (const definition of loaded) {
    const first = byName.get(definition.name)
    if (first) {
      problems.push(at(definition, 'name', `automation name '${definition.name}' is already used by ${first.file}`))
      continue
    }
    byName.set(definition.name, definition)
    good.push(definition)
  }
  return good.filter((definition) => {
    const policy = definition.onPreempt
    if (typeof policy !== 'object') return true
    const target = byName.get(policy.replace)
    if (!target) {
      problems.push(at(definition, 'on_preempt.replace', `no automation named '${policy.replace}' to replace with`))
      return false
    }
    const outside = [...devicesNamedIn(target.steps)].filter((id) => !definition.devices.includes(id))
    if (outside.length > 0) {
      problems.push(
        at(
          definition,
          'on_preempt.replace',
          `'${target.name}' addresses ${outside.join(', ')}, which '${definition.name}' does not lock`,
        ),
      )
      return false
    }
    return true
  })
}

/** A problem about a whole field of an already parsed file (its line is found again from the file). */
function at(definition: AutomationDefinition, field: string, message: string): ConfigProblem {
  try {
    return YamlSource.parse(definition.file).problem(field.split('.'), message)
  } catch {
    return { file: definition.file, line: 0, column: 0, field, message }
  }
}

function devicesNamedIn(steps: readonly StepDefinition[], into = new Set<string>()): Set<string> {
  for (const step of steps) {
    switch (step.kind) {
      case 'set':
        step.devices?.forEach((id) => into.add(id))
        break
      case 'repeat':
        devicesNamedIn(step.steps, into)
        break
      case 'if':
        devicesNamedIn(step.then, into)
        devicesNamedIn(step.else, into)
        break
      case 'choose':
        step.options.forEach((option) => devicesNamedIn(option.steps, into))
        devicesNamedIn(step.default, into)
        break
      case 'parallel':
        for (const branch of step.branches) {
          branch.devices?.forEach((id) => into.add(id))
          devicesNamedIn(branch.steps, into)
        }
        break
      default:
        break
    }
  }
  return into
}

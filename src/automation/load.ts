import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError, type ConfigProblem } from '../config/problems.js'
import type { AutomationDefinition } from './definition.js'
import { linkAutomations, type LinkProblem, type LinkSetting } from './link.js'
import { parseAutomationSource, type ParsedAutomation } from './parse.js'

/** What loading a folder of automations found: the good definitions, every problem in the bad files, warnings. */
export interface AutomationLoadResult {
  readonly definitions: AutomationDefinition[]
  readonly problems: ConfigProblem[]
  /** What runs but is probably a mistake (file:line:col field: message): for `validate` to show and the daemon to log. */
  readonly warnings: ConfigProblem[]
}

/**
 * Reads every `*.yaml`/`*.yml` file in `dir` as one automation: parses each, then links the set. Files with
 * problems are left out of `definitions`; their problems (file:line:col field: message) are all in `problems`,
 * those only the whole set shows too: duplicate names, and `on_preempt: { replace }` naming a missing automation
 * or one addressing devices this one does not lock. `setting` (from config.yaml and the device files) adds the
 * checks that need it: sun triggers without a location are problems; state triggers on devices that cannot report
 * changes, and `wait_for` topics nothing uses, are warnings.
 *
 * `running` (automation name → the file the running automation came from) makes a reload keep what runs: a file
 * added with a running automation's name is the one left out, and named, even when it sorts first (issue 13.7),
 * and so is one added while the running automation's own file is broken (that one keeps running as it was).
 *
 * @example
 * readAutomationFiles(config.automationsDir, new Set(ids), {
 *   location: config.location, checkLocation: true, devices: deviceConfigs, baseTopic: config.mqtt.baseTopic,
 * })
 */
export function readAutomationFiles(
  dir: string,
  knownDeviceIds: ReadonlySet<string>,
  setting: LinkSetting = {},
  running: ReadonlyMap<string, string> = new Map(),
): AutomationLoadResult {
  let files: string[]
  try {
    files = readdirSync(dir)
      .filter((name) => /\.ya?ml$/i.test(name))
      .sort()
      .map((name) => join(dir, name))
  } catch (error) {
    const message = `cannot read automations folder: ${(error as Error).message}`
    return { definitions: [], problems: [{ file: dir, line: 0, column: 0, field: '', message }], warnings: [] }
  }
  const problems: ConfigProblem[] = []
  const parsed = new Map<AutomationDefinition, ParsedAutomation>()
  const brokenFiles = new Set<string>()
  for (const file of files) {
    try {
      const automation = parseAutomationSource(file, knownDeviceIds)
      parsed.set(automation.definition, automation)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      problems.push(...error.problems)
      brokenFiles.add(file)
    }
  }
  for (const [definition, automation] of parsed) {
    const owner = running.get(definition.name)
    if (owner === undefined || owner === definition.file) continue
    const ownerKeepsIt =
      brokenFiles.has(owner) ||
      [...parsed.keys()].some((other) => other.file === owner && other.name === definition.name)
    if (!ownerKeepsIt) continue
    parsed.delete(definition)
    problems.push(
      automation.problem(
        ['name'],
        `automation name '${definition.name}' is already used by ${owner}; this file is left out`,
      ),
    )
  }
  // Dropping an automation with a problem can leave another one replacing it with nothing: link again until
  // every automation left links cleanly (each round drops at least one, so this ends).
  let definitions = [...parsed.keys()]
  const place = (found: LinkProblem) => parsed.get(found.automation)!.problem(found.field, found.message)
  for (;;) {
    const linked = linkAutomations(definitions, setting)
    const broken = new Set(linked.problems.map((problem) => problem.automation))
    problems.push(...linked.problems.map(place))
    definitions = linked.automations.map((automation) => automation.definition)
    if (broken.size === 0) return { definitions, problems, warnings: linked.warnings.map(place) }
    definitions = definitions.filter((definition) => !broken.has(definition))
  }
}

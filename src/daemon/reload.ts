import { readAutomationFiles, type AutomationDefinition, type AutomationEngine } from '../automation/index.js'
import type { GenlockConfig } from '../config/config.js'
import { formatProblem, type ConfigProblem } from '../config/problems.js'
import type { Logger } from '../config/logger.js'
import { readDeviceDirectory } from '../devices/device-files.js'
import type { DeviceChanges, DeviceReconciler } from '../devices/reconcile.js'
import { automationSetting } from '../setup/index.js'

/** What one reload found and applied. */
export interface ReloadOutcome {
  /** Every problem in devices/ and automations/ now (file:line:col, field); the last good versions stay in use. */
  readonly problems: readonly ConfigProblem[]
  /** What runs but is probably a mistake (the automations' link-stage warnings), file:line:col and field. */
  readonly warnings: readonly ConfigProblem[]
  readonly devices: number
  readonly automations: number
}

export interface FolderLoaderOptions {
  readonly config: GenlockConfig
  readonly env: NodeJS.ProcessEnv
  readonly bulbs: DeviceReconciler
  readonly engine: AutomationEngine
  readonly logger: Logger
}

/**
 * Reads devices/ and automations/ and applies them: bulbs through the reconciler, definitions into the engine.
 * Broken files are logged, and their last good version (if any) stays in use. Not reentrant: the daemon queues
 * reloads one after the other.
 */
export class FolderLoader {
  private current: readonly AutomationDefinition[] = []

  constructor(private readonly options: FolderLoaderOptions) {}

  /** The automation definitions in use, in file order (last good versions of broken files included). */
  get automations(): readonly AutomationDefinition[] {
    return this.current
  }

  async apply(): Promise<{ outcome: ReloadOutcome; devices: DeviceChanges }> {
    const { bulbs, engine, logger } = this.options
    const { config } = this.options
    // What runs keeps its id or name: a newly added file claiming one is the file left out (issue 13.7).
    const read = readDeviceDirectory(config.devicesDir, this.options.env, bulbs.files)
    const devices = await bulbs.apply(read)

    const automations = readAutomationFiles(
      config.automationsDir,
      new Set(bulbs.devices.keys()),
      automationSetting(config, bulbs.configs),
      new Map(this.current.map((definition) => [definition.name, definition.file])),
    )
    const brokenFiles = new Set(automations.problems.map((problem) => problem.file))
    const loaded = new Set(automations.definitions.map((definition) => definition.name))
    // An automation whose file is broken now keeps running as it was, rather than stopping mid-run.
    const kept = this.current.filter((old) => brokenFiles.has(old.file) && !loaded.has(old.name))
    this.current = [...automations.definitions, ...kept]
    const problems = [...read.problems, ...automations.problems]
    for (const problem of problems) logger.error({ problem: formatProblem(problem) }, 'config problem')
    for (const warning of automations.warnings) logger.warn({ warning: formatProblem(warning) }, 'config warning')
    engine.load(this.current, bulbs.devices)
    return {
      outcome: {
        problems,
        warnings: automations.warnings,
        devices: bulbs.devices.size,
        automations: this.current.length,
      },
      devices,
    }
  }
}

/**
 * The setup as a whole: the config file and every device and automation file it points at, checked together.
 * It sits above config, devices and automation (it reads all three) and below the daemon and the CLI (both use
 * it): src/config cannot hold it, because config is the layer devices and automation build on.
 */
import { readAutomationFiles, type AutomationDefinition, type LinkSetting } from '../automation/index.js'
import { loadConfig, type GenlockConfig } from '../config/config.js'
import { ConfigError, type ConfigProblem } from '../config/problems.js'
import { readDeviceDirectory } from '../devices/device-files.js'
import type { DeviceConfig } from '../devices/device-schema.js'

/** Everything the config file points at, checked: what `genlock validate` reports and `simulate` starts from. */
export interface CheckedSetup {
  readonly config: GenlockConfig | undefined
  readonly devices: readonly DeviceConfig[]
  readonly automations: readonly AutomationDefinition[]
  /** Every problem in every file, each with file:line:col and field. Empty when all is well. */
  readonly problems: readonly ConfigProblem[]
  /** What runs but is probably a mistake (automations' link-stage warnings), with file:line:col and field. */
  readonly warnings: readonly ConfigProblem[]
}

/**
 * Reads the config file, every device file and every automation file, and collects every problem instead of
 * stopping at the first. Automations are checked against the devices that did load.
 *
 * @example
 * const { problems } = checkSetup('config.yaml')
 * for (const problem of problems) console.error(formatProblem(problem))
 */
export function checkSetup(configFile: string, env: NodeJS.ProcessEnv = process.env): CheckedSetup {
  let config: GenlockConfig
  try {
    config = loadConfig(configFile, env)
  } catch (error) {
    if (error instanceof ConfigError)
      return { config: undefined, devices: [], automations: [], problems: error.problems, warnings: [] }
    throw error
  }
  const read = readDeviceDirectory(config.devicesDir, env)
  const devices = read.devices.map((device) => device.config)
  const automations = readAutomationFiles(
    config.automationsDir,
    new Set(devices.map((device) => device.id)),
    automationSetting(config, devices),
  )
  return {
    config,
    devices,
    automations: automations.definitions,
    problems: [...read.problems, ...automations.problems],
    warnings: automations.warnings,
  }
}

/** What automations are checked against beyond each other: the location, the device files, genlock's topics. */
export function automationSetting(config: GenlockConfig, devices: readonly DeviceConfig[]): LinkSetting {
  return { location: config.location, checkLocation: true, devices, baseTopic: config.mqtt.baseTopic }
}

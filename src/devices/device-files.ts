import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { YamlSource } from '../config/yaml-source.js'
import { ConfigError, type ConfigProblem } from '../config/problems.js'
import { ADAPTERS, deviceHeaderSchema, deviceSchema, type DeviceConfig } from './device-schema.js'

/** A validated device file and where it came from. */
export interface DeviceFile {
  readonly file: string
  readonly config: DeviceConfig
  readonly source: YamlSource
}

/**
 * Reads one device file (`text` instead of the file's contents, when given). Throws a ConfigError naming every
 * problem with file:line:column and field; `${VAR}` references are filled from `env`.
 */
export function readDeviceFile(file: string, text?: string, env: NodeJS.ProcessEnv = process.env): DeviceFile {
  const source = YamlSource.parse(file, text, env)
  const data = source.data
  const adapter = data !== null && typeof data === 'object' ? (data as { adapter?: unknown }).adapter : undefined
  if (!(ADAPTERS as readonly unknown[]).includes(adapter)) {
    // Without a known adapter the adapter's own fields cannot be judged; report the header's problems only.
    source.validate(deviceHeaderSchema)
  }
  return { file, config: source.validate(deviceSchema), source }
}

/** What reading the devices folder found: every good device file, and the problems of the others. */
export interface DeviceDirectory {
  /** The valid device files, in file-name order; a file whose id an earlier file already uses is left out. */
  readonly devices: readonly DeviceFile[]
  /** Every problem in every other file (file:line:column and field), duplicate ids and an unreadable folder included. */
  readonly problems: readonly ConfigProblem[]
}

/**
 * Reads every `*.yaml`/`*.yml` file in `dir`, one device per file, in file-name order, and never stops at a broken
 * one: the good files come back with the problems of the others, so the daemon can run what is valid and keep the
 * last good version of what is not. `${VAR}` references are filled from `env`.
 *
 * @example
 * const { devices, problems } = readDeviceDirectory('devices')
 */
export function readDeviceDirectory(dir: string, env: NodeJS.ProcessEnv = process.env): DeviceDirectory {
  let names: string[]
  try {
    names = readdirSync(dir).filter((name) => /\.ya?ml$/i.test(name))
  } catch (error) {
    const message = `cannot read the devices folder: ${(error as Error).message}`
    return { devices: [], problems: [{ file: dir, line: 0, column: 0, field: '', message }] }
  }
  names.sort()
  const problems: ConfigProblem[] = []
  const devices: DeviceFile[] = []
  const seen = new Map<string, DeviceFile>()
  for (const name of names) {
    let device: DeviceFile
    try {
      device = readDeviceFile(join(dir, name), undefined, env)
    } catch (error) {
      if (error instanceof ConfigError) {
        problems.push(...error.problems)
        continue
      }
      throw error
    }
    const first = seen.get(device.config.id)
    if (first) {
      const at = first.source.locate(['id'])
      problems.push(
        device.source.problem(
          ['id'],
          `duplicate id '${device.config.id}' (also used in ${first.file}:${at.line}:${at.column})`,
        ),
      )
      continue
    }
    seen.set(device.config.id, device)
    devices.push(device)
  }
  return { devices, problems }
}

/**
 * {@link readDeviceDirectory} for callers that need every file good: the configs, or one ConfigError listing EVERY
 * problem across all files (each with file:line:column and field), including ids used twice.
 *
 * @example
 * const configs = readDeviceFiles('devices') // [{ id: 'bath_bulb', adapter: 'sim', ... }, ...]
 */
export function readDeviceFiles(dir: string, env: NodeJS.ProcessEnv = process.env): DeviceConfig[] {
  const { devices, problems } = readDeviceDirectory(dir, env)
  if (problems.length > 0) throw new ConfigError(problems)
  return devices.map((device) => device.config)
}

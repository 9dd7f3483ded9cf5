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
  /**
   * The valid device files, in file-name order. Of files sharing an id, the running device's file keeps it (see
   * readDeviceDirectory's `running`), else the first; the others are left out.
   */
  readonly devices: readonly DeviceFile[]
  /** Every problem in every other file (file:line:column and field), duplicate ids and an unreadable folder included. */
  readonly problems: readonly ConfigProblem[]
}

/**
 * Reads every `*.yaml`/`*.yml` file in `dir`, one device per file, in file-name order, and never stops at a broken
 * one: the good files come back with the problems of the others, so the daemon can run what is valid and keep the
 * last good version of what is not. `${VAR}` references are filled from `env`.
 *
 * `running` (device id → the file the running device came from) makes a reload keep what runs: a file added with
 * an id a running device has is the one left out, and named, even when its name sorts first (issue 13.7), and
 * so is one added while the running device's own file is broken (that device keeps running as it was).
 *
 * @example
 * const { devices, problems } = readDeviceDirectory('devices')
 */
export function readDeviceDirectory(
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
  running: ReadonlyMap<string, string> = new Map(),
): DeviceDirectory {
  let names: string[]
  try {
    names = readdirSync(dir).filter((name) => /\.ya?ml$/i.test(name))
  } catch (error) {
    const message = `cannot read the devices folder: ${(error as Error).message}`
    return { devices: [], problems: [{ file: dir, line: 0, column: 0, field: '', message }] }
  }
  names.sort()
  const problems: ConfigProblem[] = []
  const read: DeviceFile[] = []
  const brokenFiles = new Set<string>()
  for (const name of names) {
    try {
      read.push(readDeviceFile(join(dir, name), undefined, env))
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      problems.push(...error.problems)
      brokenFiles.add(join(dir, name))
    }
  }
  // Who keeps each id: the running device's file when it still says so (or is broken: it keeps running), else
  // the first file in name order.
  const owners = new Map<string, DeviceFile | string>()
  for (const [id, file] of running) if (brokenFiles.has(file)) owners.set(id, file)
  for (const device of read) if (running.get(device.config.id) === device.file) owners.set(device.config.id, device)
  const devices: DeviceFile[] = []
  for (const device of read) {
    const id = device.config.id
    const owner = owners.get(id) ?? device
    owners.set(id, owner)
    if (owner === device) {
      devices.push(device)
      continue
    }
    const where = typeof owner === 'string' ? `${owner}, whose device keeps running` : placeOf(owner)
    problems.push(device.source.problem(['id'], `duplicate id '${id}' (also used in ${where}); this file is left out`))
  }
  const order = new Map(names.map((name, i) => [join(dir, name), i]))
  return { devices, problems: problems.sort((a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0)) }
}

function placeOf(device: DeviceFile): string {
  const at = device.source.locate(['id'])
  return `${device.file}:${at.line}:${at.column}`
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

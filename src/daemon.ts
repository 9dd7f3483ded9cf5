/**
 * The composition root: the one place that builds genlock from its config and owns start, reload and stop.
 * config → logger → (embedded broker) → MQTT → gen-lock → devices → automation engine → state topics.
 */
import { EventEmitter } from 'node:events'
import { readdirSync, readFileSync, watch } from 'node:fs'
import { join } from 'node:path'
import type { AutomationDefinition } from './automation/definition.js'
import { AutomationEngine } from './automation/engine.js'
import type { LinkSetting } from './automation/link.js'
import { readAutomationFiles } from './automation/load.js'
import type { AutomationStatus } from './automation/status.js'
import { loadConfig, type GenlockConfig } from './config/config.js'
import { createLogger, type Logger } from './config/logger.js'
import { loginChecker } from './config/password-hash.js'
import { ConfigError, formatProblem, type ConfigProblem } from './config/problems.js'
import { createBulb, readDeviceFile, type Bulb, type DeviceConfig } from './devices/index.js'
import { HomeAssistant } from './homeassistant/index.js'
import genLock, { memoryProtocol, redisProtocol, type LockerFactory, type LockingProtocol } from './lock/index.js'
import { MqttConnection, redactUrl, startEmbeddedBroker, type EmbeddedBroker } from './mqtt/index.js'

/** Everything the config file points at, checked: what `genlock validate` reports and `genlock run` starts from. */
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
  const { devices, problems } = readDevices(config.devicesDir, env)
  const automations = readAutomationFiles(
    config.automationsDir,
    new Set(devices.map((device) => device.id)),
    automationSetting(config, devices),
  )
  return {
    config,
    devices,
    automations: automations.definitions,
    problems: [...problems, ...automations.problems],
    warnings: automations.warnings,
  }
}

/** What automations are checked against beyond each other: the location, the device files, genlock's topics. */
function automationSetting(config: GenlockConfig, devices: readonly DeviceConfig[]): LinkSetting {
  return { location: config.location, checkLocation: true, devices, baseTopic: config.mqtt.baseTopic }
}

/** Every good device file in `dir`, and the problems of the others (duplicate ids included). */
export function readDevices(
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
): { devices: DeviceConfig[]; files: Map<string, string>; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = []
  const devices: DeviceConfig[] = []
  /** Device id → the file it came from. */
  const files = new Map<string, string>()
  let names: string[]
  try {
    names = readdirSync(dir).filter((name) => /\.ya?ml$/i.test(name))
  } catch (error) {
    const message = `cannot read the devices folder: ${(error as Error).message}`
    return { devices, files, problems: [{ file: dir, line: 0, column: 0, field: '', message }] }
  }
  for (const name of names.sort()) {
    try {
      const device = readDeviceFile(join(dir, name), undefined, env)
      const first = files.get(device.config.id)
      if (first) {
        problems.push(device.source.problem(['id'], `duplicate id '${device.config.id}' (also used in ${first})`))
        continue
      }
      files.set(device.config.id, device.file)
      devices.push(device.config)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      problems.push(...error.problems)
    }
  }
  return { devices, files, problems }
}

export interface DaemonOptions {
  /** Overrides `log.level` from the config file. */
  readonly logLevel?: string | undefined
  /** Use this logger instead of building one from the config. */
  readonly logger?: Logger | undefined
  readonly env?: NodeJS.ProcessEnv | undefined
  /** Quiet time after the last change under devices/ or automations/ before reloading, ms. Default 150. */
  readonly reloadDebounceMs?: number | undefined
}

/** What one reload found and applied. */
export interface ReloadOutcome {
  readonly problems: readonly ConfigProblem[]
  readonly devices: number
  readonly automations: number
}

/**
 * A running genlock: broker connection, devices, automations and the retained state topics, with hot reload of
 * devices/ and automations/. Build one with {@link Daemon.start}; end it with {@link Daemon.stop}.
 *
 * @example
 * const daemon = await Daemon.start('config.example.yaml')
 * process.once('SIGTERM', () => void daemon.stop().then(() => process.exit(0)))
 */
export class Daemon extends EventEmitter<{ reloaded: [ReloadOutcome]; stopped: [] }> {
  /** Device id → the config its bulb was built from. */
  private readonly deviceConfigs = new Map<string, DeviceConfig>()
  /** Device id → the file its config came from. */
  private deviceFiles = new Map<string, string>()
  private automations: AutomationDefinition[] = []
  private readonly cleanups: (() => void)[] = []
  private readonly deviceCleanups = new Map<string, () => void>()
  private reloading: Promise<unknown> = Promise.resolve()
  private stopping: Promise<void> | undefined
  /** The last payload published per retained subtopic (`device/<id>`, `automation/<name>`). */
  private readonly lastPublished = new Map<string, string>()
  /** The last status published per automation. */
  private readonly statuses = new Map<string, AutomationStatus>()
  /** Home Assistant discovery and manual light control, when `homeassistant.discovery` is on. */
  private homeassistant: HomeAssistant | undefined

  private constructor(
    readonly config: GenlockConfig,
    readonly logger: Logger,
    readonly bus: MqttConnection,
    readonly broker: EmbeddedBroker | undefined,
    readonly locks: LockerFactory,
    readonly engine: AutomationEngine,
    /** The bulbs by device id, as currently configured (the engine reads the same map). */
    readonly devices: Map<string, Bulb>,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    super()
  }

  /**
   * Loads `configFile` and everything it points at, connects, and starts the automations. A broken config file
   * throws a ConfigError; broken device or automation files are logged and left out (fix them and they load).
   */
  static async start(configFile: string, options: DaemonOptions = {}): Promise<Daemon> {
    const startedAt = performance.now()
    const env = options.env ?? process.env
    const config = loadConfig(configFile, env)
    const logger =
      options.logger ?? createLogger({ level: options.logLevel ?? config.log.level, pretty: config.log.pretty })
    const mqttLogger = logger.child({ component: 'mqtt' })
    const broker = config.mqtt.embedded
      ? await startEmbeddedBroker({
          host: config.mqtt.host,
          port: config.mqtt.port,
          logger: mqttLogger,
          authenticate: config.mqtt.broker.logins.length > 0 ? loginChecker(config.mqtt.broker.logins) : undefined,
          limits: config.mqtt.broker,
        })
      : undefined
    const url = broker?.url ?? (config.mqtt.embedded ? '' : config.mqtt.url)
    mqttLogger.info({ url: redactUrl(url), clientId: config.mqtt.clientId }, 'mqtt connecting')
    const bus = await MqttConnection.open({
      url,
      clientId: config.mqtt.clientId,
      baseTopic: config.mqtt.baseTopic,
      username: config.mqtt.username,
      password: config.mqtt.password,
      ca: config.mqtt.ca ? readFileSync(config.mqtt.ca) : undefined,
      cert: config.mqtt.cert ? readFileSync(config.mqtt.cert) : undefined,
      key: config.mqtt.key ? readFileSync(config.mqtt.key) : undefined,
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
      logger: mqttLogger,
      holdUnhandled: true,
    }).catch(async (error: unknown) => {
      await broker?.close()
      throw error
    })
    const locks = genLock(undefined, createProtocol(config, logger))
    const devices = new Map<string, Bulb>()
    const engine = new AutomationEngine({
      locks,
      devices,
      bus,
      baseTopic: config.mqtt.baseTopic,
      logger,
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
      timezone: config.timezone,
      ...(config.location ? { location: config.location } : {}),
    })
    const daemon = new Daemon(config, logger, bus, broker, locks, engine, devices, env)
    daemon.publishStates()
    const outcome = await daemon.applyFiles()
    engine.start()
    daemon.startHomeAssistant()
    bus.release()
    await bus.settled()
    daemon.watchFiles(options.reloadDebounceMs ?? 150)
    logger.info(
      {
        devices: outcome.devices,
        automations: outcome.automations,
        problems: outcome.problems.length,
        ms: Math.round(performance.now() - startedAt),
      },
      'genlock ready',
    )
    return daemon
  }

  /** Re-reads devices/ and automations/ and applies what changed (what hot reload does on a file change). */
  reload(): Promise<ReloadOutcome> {
    const next = this.reloading.then(async () => {
      const outcome = await this.applyFiles()
      await this.bus.settled()
      return outcome
    })
    this.reloading = next.catch(() => undefined)
    return next.then((outcome) => {
      this.emit('reloaded', outcome)
      return outcome
    })
  }

  /**
   * Stops triggers, ends transactions (locks are released as they end), publishes `offline` and disconnects.
   * Safe to call more than once.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown()
    return this.stopping
  }

  private async shutdown(): Promise<void> {
    this.logger.info({}, 'genlock stopping')
    // Triggers sent while we are down are queued by the broker for our next start.
    this.bus.beginClose()
    for (const cleanup of this.cleanups.splice(0)) cleanup()
    await this.homeassistant?.stop()
    await this.reloading
    await this.engine.stop()
    // Nothing runs any more: say so on every automation's retained topic before going offline.
    for (const status of [...this.statuses.values()]) {
      if (status.state !== 'idle') this.publishAutomation({ ...status, state: 'idle' })
    }
    for (const cleanup of this.deviceCleanups.values()) cleanup()
    await Promise.allSettled([...this.devices.values()].map((bulb) => bulb.stop()))
    await this.bus.close()
    await this.locks.protocol.close()
    await this.broker?.close()
    this.logger.info({}, 'genlock stopped')
    this.emit('stopped')
  }

  /** Reads both folders; broken files are logged and their last good version (if any) stays in use. */
  private async applyFiles(): Promise<ReloadOutcome> {
    const read = readDevices(this.config.devicesDir, this.env)
    const problems: ConfigProblem[] = [...read.problems]
    const brokenFiles = new Set(read.problems.map((problem) => problem.file))
    const wanted = new Map(read.devices.map((device) => [device.id, device]))
    const files = new Map(read.files)
    // A device whose file is broken now keeps running as it was, rather than vanishing from under automations.
    for (const [id, file] of this.deviceFiles) {
      const before = this.deviceConfigs.get(id)
      if (!wanted.has(id) && brokenFiles.has(file) && before) {
        wanted.set(id, before)
        files.set(id, file)
      }
    }
    await this.applyDevices(wanted)
    this.deviceFiles = files

    const automations = readAutomationFiles(
      this.config.automationsDir,
      new Set(this.devices.keys()),
      automationSetting(this.config, [...this.deviceConfigs.values()]),
    )
    problems.push(...automations.problems)
    for (const warning of automations.warnings) this.logger.warn({ warning: formatProblem(warning) }, 'config warning')
    const brokenAutomationFiles = new Set(automations.problems.map((problem) => problem.file))
    const loadedNames = new Set(automations.definitions.map((definition) => definition.name))
    const keptFromBefore = this.automations.filter(
      (definition) => brokenAutomationFiles.has(definition.file) && !loadedNames.has(definition.name),
    )
    const definitions = [...automations.definitions, ...keptFromBefore]
    for (const problem of problems) this.logger.error({ problem: formatProblem(problem) }, 'config problem')
    const removed = this.automations.filter((old) => !definitions.some((d) => d.name === old.name))
    this.automations = definitions
    this.engine.load(definitions, this.devices)
    for (const gone of removed) {
      this.statuses.delete(gone.name)
      this.publishRetained(`automation/${gone.name}`, '')
    }
    return { problems, devices: this.devices.size, automations: definitions.length }
  }

  /** Stops bulbs that went away or changed, and builds and starts the new and changed ones. */
  private async applyDevices(wanted: ReadonlyMap<string, DeviceConfig>): Promise<void> {
    for (const [id, bulb] of this.devices) {
      const config = wanted.get(id)
      if (config && JSON.stringify(config) === JSON.stringify(this.deviceConfigs.get(id))) continue
      this.deviceCleanups.get(id)?.()
      this.deviceCleanups.delete(id)
      this.devices.delete(id)
      this.deviceConfigs.delete(id)
      await bulb
        .stop()
        .catch((error: Error) => this.logger.warn({ device: id, err: error.message }, 'device stop failed'))
      if (config === undefined) this.publishRetained(`device/${id}`, '')
    }
    const deviceLogger = this.logger.child({ component: 'devices' })
    for (const [id, config] of wanted) {
      if (this.devices.has(id)) continue
      let bulb: Bulb
      try {
        bulb = createBulb(config, { mqtt: this.bus, logger: deviceLogger })
      } catch (error) {
        // One device that cannot be built must not take the others (or the daemon) down with it.
        this.logger.error({ device: id, err: (error as Error).message }, 'device cannot be created; left out')
        continue
      }
      this.devices.set(id, bulb)
      this.deviceConfigs.set(id, config)
      this.deviceCleanups.set(
        id,
        bulb.subscribe(() => this.publishDevice(id)),
      )
      try {
        await bulb.start()
      } catch (error) {
        this.logger.error(
          { device: id, err: (error as Error).message },
          'device did not start; its steps fail until it answers',
        )
      }
      this.publishDevice(id)
    }
  }

  /** Home Assistant integration (src/homeassistant): discovery, birth message, HA light commands as manual transactions. */
  private startHomeAssistant(): void {
    const settings = this.config.homeassistant
    if (!settings.discovery) return
    const homeassistant = new HomeAssistant({
      bus: this.bus,
      baseTopic: this.config.mqtt.baseTopic,
      prefix: settings.prefix,
      manualPriority: settings.manualPriority,
      locks: this.locks,
      devices: this.devices,
      automations: this.engine,
      logger: this.logger.child({ component: 'homeassistant' }),
      republishStates: () => {
        this.republishStates()
      },
    })
    homeassistant.start()
    this.homeassistant = homeassistant
    this.on('reloaded', () => homeassistant.sync())
  }

  private publishStates(): void {
    this.engine.on('status', (status) => this.publishAutomation(status))
    // A broker that forgot our session (restarted without persistence) forgot our retained states with it.
    this.cleanups.push(this.bus.onReconnect((sessionPresent) => sessionPresent || this.republishStates()))
    const off = this.locks.protocol.on((event) => {
      if (this.devices.has(event.resource)) this.publishDevice(event.resource)
    })
    this.cleanups.push(off)
  }

  /** `<base>/automation/<name>`: `{ state, last_error }`, retained. */
  private publishAutomation(status: AutomationStatus): void {
    // A removed automation's topic was cleared; its last status from the engine must not bring it back.
    if (!this.automations.some((definition) => definition.name === status.name)) return
    this.statuses.set(status.name, status)
    const body = { state: status.state, last_error: status.lastError ?? null }
    this.publishRetained(`automation/${status.name}`, JSON.stringify(body))
  }

  /** Publishes every automation's and device's state again, even where it did not change. */
  private republishStates(): void {
    this.lastPublished.clear()
    for (const status of this.engine.status()) this.publishAutomation(status)
    for (const id of this.devices.keys()) this.publishDevice(id)
  }

  private publishDevice(id: string): void {
    const bulb = this.devices.get(id)
    if (!bulb) return
    const body = {
      id,
      name: bulb.name,
      adapter: bulb.adapter,
      state: bulb.state,
      holder: this.engine.holderOf(id) ?? null,
    }
    this.publishRetained(`device/${id}`, JSON.stringify(body))
  }

  private publishRetained(subtopic: string, payload: string): void {
    if (this.stopping && !this.bus.connected) return
    // Lock events and bulb events often describe the same state: publish each state once.
    if (this.lastPublished.get(subtopic) === payload) return
    if (payload === '') this.lastPublished.delete(subtopic)
    else this.lastPublished.set(subtopic, payload)
    this.bus
      .publish(`${this.config.mqtt.baseTopic}/${subtopic}`, payload, { retain: true, qos: 1 })
      .catch((error: Error) => this.logger.warn({ topic: subtopic, err: error.message }, 'state publish failed'))
  }

  private watchFiles(debounceMs: number): void {
    let timer: NodeJS.Timeout | undefined
    const changed = (dir: string) => () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        this.logger.info({ dir }, 'files changed; reloading')
        void this.reload().catch((error: Error) => this.logger.error({ err: error.message }, 'reload failed'))
      }, debounceMs)
    }
    for (const dir of [this.config.devicesDir, this.config.automationsDir]) {
      const watcher = watch(dir, changed(dir))
      watcher.on('error', (error) => this.logger.error({ dir, err: error.message }, 'cannot watch folder'))
      this.cleanups.push(() => watcher.close())
    }
    this.cleanups.push(() => clearTimeout(timer))
  }
}

/** The lock protocol `locks.backend` names. */
function createProtocol(config: GenlockConfig, logger: Logger): LockingProtocol {
  if (config.locks.backend === 'memory') return memoryProtocol()
  return redisProtocol({
    url: config.locks.url,
    keyPrefix: config.locks.keyPrefix,
    logger: logger.child({ component: 'locks' }),
  })
}

/** How long SIGTERM/SIGINT may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 4500

/**
 * `genlock run`: starts the daemon and stops it on SIGTERM/SIGINT, exiting 0 within 5 s. Resolves with the
 * config file's problems (and starts nothing) when the config file itself is broken.
 */
export async function runDaemon(
  configFile: string,
  options: DaemonOptions = {},
): Promise<{ problems: readonly ConfigProblem[] }> {
  let daemon: Daemon | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    const running = daemon
    if (!running) {
      // Still starting (a broker that does not answer keeps it there): nothing runs yet, so just leave.
      // The broker sends our `offline` will when the socket drops.
      process.stderr.write(`genlock: ${signal} while starting; exiting\n`)
      process.exit(0)
    }
    running.logger.info({ signal }, 'signal received')
    const deadline = setTimeout(() => {
      running.logger.warn({ ms: SHUTDOWN_DEADLINE_MS }, 'shutdown took too long; exiting anyway')
      process.exit(0)
    }, SHUTDOWN_DEADLINE_MS)
    deadline.unref()
    void running.stop().then(
      () => process.exit(0),
      (error: Error) => {
        running.logger.error({ err: error.message }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', onSignal)
  process.once('SIGINT', onSignal)
  try {
    daemon = await Daemon.start(configFile, options)
  } catch (error) {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
    if (error instanceof ConfigError) return { problems: error.problems }
    throw error
  }
  return { problems: [] }
}

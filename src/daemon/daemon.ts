/**
 * The composition root: the one place that builds genlock from its config, then starts and stops it in order.
 * config → logger → data dir → (embedded broker) → MQTT → gen-lock → devices → automations → extensions → online.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { AutomationEngine, readScheduleRecord, type AutomationDefinition } from '../automation/index.js'
import { loadConfig, type GenlockConfig } from '../config/config.js'
import { createLogger, type Logger } from '../config/logger.js'
import type { Bulb } from '../devices/bulb.js'
import { DeviceReconciler } from '../devices/reconcile.js'
import { createBulb, createSimulatedBulb } from '../devices/index.js'
import genLock, { type LockerFactory } from '../lock/index.js'
import { StateFile } from '../store/index.js'
import type { EmbeddedBroker, MqttConnection } from '../mqtt/index.js'
import { connect, lockProtocol, type BrokerChoice } from './connect.js'
import { DaemonEvents } from './events.js'
import type { DaemonContext, Extension } from './extension.js'
import { Dashboard } from './extensions/dashboard/index.js'
import { FileWatch } from './extensions/file-watch.js'
import { HomeAssistantExtension } from './extensions/home-assistant.js'
import { StateTopics } from './extensions/state-topics.js'
import { DeviceHolders } from './holders.js'
import { FolderLoader, type ReloadOutcome } from './reload.js'

/** How to start a daemon; every option has a default, so `Daemon.start(file)` is `genlock run`. */
export interface DaemonOptions extends BrokerChoice {
  /** Overrides `log.level` from the config file. */
  readonly logLevel?: string | undefined
  /** Use this logger instead of building one from the config. */
  readonly logger?: Logger | undefined
  readonly env?: NodeJS.ProcessEnv | undefined
  /** Watch devices/ and automations/ and reload when they change. Default true. */
  readonly watch?: boolean | undefined
  /** Quiet time after the last change under devices/ or automations/ before reloading, ms. Default 150. */
  readonly reloadDebounceMs?: number | undefined
  /** `configured` (default): the adapters the device files name. `simulated`: an in-memory twin of each. */
  readonly bulbs?: 'configured' | 'simulated' | undefined
  /** Extensions started after the built-in ones (and stopped before them). */
  readonly extensions?: readonly Extension[] | undefined
  /** Use this folder instead of `data_dir`. */
  readonly dataDir?: string | undefined
}

/**
 * A running genlock: broker connection, devices, automations, and its extensions (state topics, Home Assistant,
 * file watching, and whatever `options.extensions` adds). Build one with {@link Daemon.start}; end it with
 * {@link Daemon.stop}. `genlock simulate` is this same daemon with simulated bulbs and an ephemeral broker.
 *
 * @example
 * const daemon = await Daemon.start('config.example.yaml')
 * process.once('SIGTERM', () => void daemon.stop().then(() => process.exit(0)))
 */
export class Daemon {
  /** The daemon's context, as every extension sees it. */
  readonly context: DaemonContext
  private readonly started: Extension[] = []
  private reloading: Promise<unknown> = Promise.resolve()
  private stopping: Promise<void> | undefined
  private readonly cleanups: (() => void)[] = []

  private constructor(
    readonly config: GenlockConfig,
    readonly logger: Logger,
    readonly bus: MqttConnection,
    /** The broker this daemon runs itself (embedded or ephemeral), if any. */
    readonly broker: EmbeddedBroker | undefined,
    readonly locks: LockerFactory,
    readonly engine: AutomationEngine,
    private readonly bulbs: DeviceReconciler,
    private readonly folders: FolderLoader,
    readonly holders: DeviceHolders,
    readonly events: DaemonEvents,
    readonly dataDir: string,
  ) {
    this.context = {
      config,
      logger,
      bus,
      locks,
      engine,
      devices: bulbs.devices,
      get automations() {
        return folders.automations
      },
      holders,
      events,
      dataDir,
      reload: () => this.reload(),
    }
  }

  /** The bulbs by device id; always current. */
  get devices(): ReadonlyMap<string, Bulb> {
    return this.bulbs.devices
  }

  /** The automation definitions in use, in file order. */
  get automations(): readonly AutomationDefinition[] {
    return this.folders.automations
  }

  /**
   * Loads `configFile` and everything it points at, connects, starts the automations and the extensions, and
   * publishes `online` once every subscription is acknowledged. A broken config file throws a ConfigError; broken
   * device or automation files are logged and left out (fix them and they load).
   */
  static async start(configFile: string, options: DaemonOptions = {}): Promise<Daemon> {
    const startedAt = performance.now()
    const env = options.env ?? process.env
    const config = loadConfig(configFile, env)
    const logger =
      options.logger ?? createLogger({ level: options.logLevel ?? config.log.level, pretty: config.log.pretty })
    const dataDir = options.dataDir ?? config.dataDir
    try {
      mkdirSync(dataDir, { recursive: true })
    } catch (error) {
      throw new Error(
        `data_dir ${dataDir} cannot be created: ${(error as Error).message} (set data_dir in ${config.file})`,
        { cause: error },
      )
    }
    const { bus, broker } = await connect(config, options, logger)
    const locks = genLock(undefined, lockProtocol(config, logger))
    const events = new DaemonEvents(logger)
    const holders = new DeviceHolders()
    const deviceLogger = logger.child({ component: 'devices' })
    const bulbs = new DeviceReconciler({
      create:
        options.bulbs === 'simulated'
          ? (device) => createSimulatedBulb(device, { logger: deviceLogger })
          : (device) => createBulb(device, { mqtt: bus, logger: deviceLogger }),
      follow: (id, bulb) => bulb.subscribe((event) => events.emit('deviceEvent', id, event)),
      logger: deviceLogger,
    })
    const engine = new AutomationEngine({
      locks,
      devices: bulbs.devices,
      bus,
      baseTopic: config.mqtt.baseTopic,
      logger,
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
      timezone: config.timezone,
      ...(config.location ? { location: config.location } : {}),
      // Only triggers with `catch_up` are recorded: the last fire times a restart needs to run one it missed.
      scheduleStore: new StateFile({
        path: join(dataDir, 'schedules.json'),
        validate: readScheduleRecord,
        logger: logger.child({ component: 'store' }),
      }),
    })
    const folders = new FolderLoader({
      config,
      env,
      bulbs,
      engine,
      logger,
    })
    const daemon = new Daemon(config, logger, bus, broker, locks, engine, bulbs, folders, holders, events, dataDir)
    daemon.forwardEvents()
    let outcome: ReloadOutcome
    try {
      ;({ outcome } = await folders.apply())
      for (const extension of extensionsFor(config, options, outcome)) await daemon.startExtension(extension)
      engine.start()
      bus.release()
      await bus.announceOnline()
    } catch (error) {
      // Leave nothing running behind a failed start: the broker connection, an embedded broker, the bulbs.
      await daemon.stop().catch(() => undefined)
      throw error
    }
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
      if (this.stopping) throw new Error('the daemon is stopping')
      // What the old automations and bulbs subscribed to and the new ones still want must never be
      // unsubscribed in between (see MqttConnection.holdUnsubscribes).
      const resume = this.bus.holdUnsubscribes()
      try {
        const { outcome, devices } = await this.folders.apply()
        if (devices.added.length > 0 || devices.removed.length > 0) this.events.emit('devicesChanged', devices)
        return outcome
      } finally {
        resume()
      }
    })
    this.reloading = next.catch(() => undefined)
    return next.then(async (outcome) => {
      this.events.emit('reloaded', outcome)
      await this.bus.settled()
      return outcome
    })
  }

  /**
   * Tells the extensions it is stopping (they stop taking new work), stops the automations (runs end, locks are
   * released, bulbs restored where configured) while the extensions still report it, then stops the extensions in
   * reverse order, the bulbs, and the connection (`offline`). Triggers sent meanwhile are queued by the broker for
   * the next start. Safe to call more than once.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown()
    return this.stopping
  }

  private async shutdown(): Promise<void> {
    this.logger.info({}, 'genlock stopping')
    this.bus.beginClose()
    this.events.emit('stopping')
    await this.reloading
    await this.engine.stop()
    for (const extension of this.started.splice(0).reverse()) {
      try {
        await extension.stop()
      } catch (error) {
        this.logger.error({ extension: extension.name, err: (error as Error).message }, 'extension failed to stop')
      }
      this.events.removeListeners(extension)
    }
    for (const cleanup of this.cleanups.splice(0)) cleanup()
    await this.bulbs.stopAll()
    await this.bus.close()
    await this.locks.protocol.close()
    await this.broker?.close()
    this.logger.info({}, 'genlock stopped')
  }

  private async startExtension(extension: Extension): Promise<void> {
    try {
      await extension.start(this.context)
      this.started.push(extension)
    } catch (error) {
      // One feature that cannot start (a port in use, say) must not keep the automations from running.
      this.events.removeListeners(extension)
      this.logger.error(
        { extension: extension.name, err: (error as Error).message },
        `extension ${extension.name} failed to start; running without it`,
      )
    }
  }

  /** Feeds the event bus from the engine, the locks and the connection. */
  private forwardEvents(): void {
    const { events, holders } = this
    this.cleanups.push(
      this.engine.on('status', (status) => events.emit('automationStatus', status)),
      // Holders first: a listener of `lock` reads the new holder.
      this.locks.protocol.on((event) => {
        holders.apply(event)
        events.emit('lock', event)
      }),
      this.bus.onOnlineChange((online) => events.emit('connection', { online })),
      // Before `online` goes out again: QoS 0 states sent as the connection dropped are lost, and a broker that
      // forgot our session forgot our retained topics with it.
      this.bus.onReconnect(() => events.emit('republishRequested', 'reconnected')),
    )
    // Run events cost the engine an object per step: only connected while an extension listens.
    events.source('run', () => this.engine.on('run', (event) => events.emit('run', event)))
  }
}

/** The built-in extensions this daemon runs, in start order, then `options.extensions`. */
function extensionsFor(config: GenlockConfig, options: DaemonOptions, outcome: ReloadOutcome): Extension[] {
  const guest = options.guest === true
  return [
    ...(guest ? [] : [new StateTopics()]),
    ...(!guest && config.homeassistant.discovery ? [new HomeAssistantExtension()] : []),
    ...((options.watch ?? true) ? [new FileWatch(options.reloadDebounceMs ?? 150)] : []),
    ...(config.http ? [new Dashboard({ outcome })] : []),
    ...(options.extensions ?? []),
  ]
}

/**
 * The composition root: the one place that builds genlock from its config, then starts and stops it in order.
 * config → logger → data dir → (embedded broker) → MQTT → gen-lock → devices → automations → extensions → online.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  AutomationEngine,
  readRunJournal,
  readScheduleRecord,
  type AutomationDefinition,
  type Clock,
} from '../automation/index.js'
import { loadConfig, type GenlockConfig } from '../config/config.js'
import { createLogger, type Logger } from '../config/logger.js'
import type { Bulb } from '../devices/bulb.js'
import { DeviceReconciler } from '../devices/reconcile.js'
import { loadBulb } from '../devices/adapter-loader.js'
import { createSimulatedBulb } from '../devices/sim/create.js'
import genLock from '../lock/gen-lock.js'
import type { BackendReachability, LockerFactory } from '../lock/index.js'
import { StateFile } from '../store/index.js'
import type { EmbeddedBroker, MqttConnection } from '../mqtt/index.js'
import { connect, lockProtocol, type BrokerChoice } from './connect.js'
import { DaemonEvents } from './events.js'
import type { DaemonContext, Extension } from './extension.js'
import { FileWatch } from './extensions/file-watch.js'
import { HomeAssistantExtension } from './extensions/home-assistant.js'
import { LockBackendState } from './extensions/lock-backend.js'
import { ManualHolds } from './extensions/manual-holds.js'
import { StateTopics } from './extensions/state-topics.js'
import { Traces } from './extensions/traces/traces.js'
import { Health } from './extensions/health/health.js'
import type { Dashboard } from './extensions/dashboard/index.js'
import type { Metrics } from './extensions/metrics/metrics.js'
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
  /**
   * Where automations, their locks' ttl and acquire timeouts, and simulated bulbs' fades get their time. Default
   * the system clock; `genlock simulate` passes a virtual one (then the locks run in memory, whatever the config).
   */
  readonly clock?: Clock | undefined
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
  private lastReload: ReloadOutcome = { problems: [], warnings: [], devices: 0, automations: 0 }

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
    lockBackend: BackendReachability | undefined,
  ) {
    const lastReload = () => this.lastReload
    this.context = {
      config,
      logger,
      bus,
      locks,
      engine,
      devices: bulbs.devices,
      deviceConfig: (id) => bulbs.configs.find((device) => device.id === id),
      get automations() {
        return folders.automations
      },
      holders,
      events,
      dataDir,
      lockBackend,
      get lastReload() {
        return lastReload()
      },
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
    const protocol = await lockProtocol(config, logger, options.clock)
    const locks = genLock(undefined, protocol)
    const events = new DaemonEvents(logger)
    const holders = new DeviceHolders()
    const deviceLogger = logger.child({ component: 'devices' })
    const bulbs = new DeviceReconciler({
      create:
        options.bulbs === 'simulated'
          ? (device) =>
              createSimulatedBulb(device, {
                logger: deviceLogger,
                ...(options.clock ? { clock: options.clock.now.bind(options.clock) } : {}),
              })
          : (device) => loadBulb(device, { mqtt: bus, logger: deviceLogger }),
      follow: (id, bulb) => bulb.subscribe((event) => events.emit('deviceEvent', id, event)),
      logger: deviceLogger,
    })
    const engine = new AutomationEngine({
      locks,
      lockBackend: protocol.backend,
      devices: bulbs.devices,
      bus,
      baseTopic: config.mqtt.baseTopic,
      logger,
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
      timezone: config.timezone,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(config.location ? { location: config.location } : {}),
      // Only triggers with `catch_up` are recorded: the last fire times a restart needs to run one it missed.
      scheduleStore: new StateFile({
        path: join(dataDir, 'schedules.json'),
        validate: readScheduleRecord,
        logger: logger.child({ component: 'store' }),
      }),
      // The runs going and their bulbs' states before: after a crash, the next start puts those bulbs back. A
      // guest (genlock simulate) must neither act on nor overwrite the real daemon's journal.
      ...(options.guest === true
        ? {}
        : {
            runJournal: new StateFile({
              path: join(dataDir, 'runs.json'),
              validate: readRunJournal,
              logger: logger.child({ component: 'store' }),
            }),
          }),
    })
    const folders = new FolderLoader({
      config,
      env,
      bulbs,
      engine,
      logger,
    })
    const daemon = new Daemon(
      config,
      logger,
      bus,
      broker,
      locks,
      engine,
      bulbs,
      folders,
      holders,
      events,
      dataDir,
      protocol.backend,
    )
    daemon.forwardEvents()
    let outcome: ReloadOutcome
    try {
      ;({ outcome } = await folders.apply())
      daemon.lastReload = outcome
      // prom-client is loaded only when the metrics are on.
      const metrics = config.http?.metrics ? new (await import('./extensions/metrics/metrics.js')).Metrics() : undefined
      // The dashboard (and node:http with it) is loaded only when `http` is configured.
      const dashboard = config.http ? (await import('./extensions/dashboard/index.js')).Dashboard : undefined
      for (const extension of extensionsFor(config, options, outcome, metrics, dashboard))
        await daemon.startExtension(extension)
      engine.start()
      if (options.guest !== true) daemon.clearCrashedRunStates()
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
      this.lastReload = outcome
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

  /**
   * A crashed daemon left `<base>/automation/<name>` retained as `running`: loaded automations have theirs
   * published again as they are now (the state topics do that at start); one no longer loaded has its cleared.
   */
  private clearCrashedRunStates(): void {
    void this.engine.crashedRuns().then((names) => {
      for (const name of names) {
        if (this.folders.automations.some((definition) => definition.name === name)) continue
        this.bus
          .publish(`${this.config.mqtt.baseTopic}/automation/${name}`, '', { retain: true, qos: 1 })
          .catch((error: Error) => this.logger.warn({ automation: name, err: error.message }, 'clear failed'))
      }
    })
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
    // Before any extension's listener: the state topics read the hold's end as they publish.
    events.on({ name: 'holders' }, 'manualHold', (id, hold) => holders.setManualHold(id, hold.until))
    // Run events cost the engine an object per step: only connected while an extension listens.
    events.source('run', () => this.engine.on('run', (event) => events.emit('run', event)))
  }
}

/** The built-in extensions this daemon runs, in start order, then `options.extensions`. */
function extensionsFor(
  config: GenlockConfig,
  options: DaemonOptions,
  outcome: ReloadOutcome,
  metrics: Metrics | undefined,
  dashboard: typeof Dashboard | undefined,
): Extension[] {
  const guest = options.guest === true
  return [
    // A guest shares a real daemon's broker and topics: it must not publish its state, nor write its data_dir.
    ...(guest ? [] : [new StateTopics(), new ManualHolds(), new LockBackendState(), new Traces(), new Health()]),
    ...(!guest && config.homeassistant.discovery ? [new HomeAssistantExtension()] : []),
    ...((options.watch ?? true) ? [new FileWatch(options.reloadDebounceMs ?? 150)] : []),
    // Before the listener, so /metrics is never served before it counts.
    ...(metrics ? [metrics] : []),
    ...(dashboard ? [new dashboard({ outcome, routes: metrics ? [metrics.route()] : [] })] : []),
    ...(options.extensions ?? []),
  ]
}

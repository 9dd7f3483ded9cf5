import type { AutomationDefinition, AutomationEngine } from '../automation/index.js'
import type { GenlockConfig } from '../config/config.js'
import type { Logger } from '../config/logger.js'
import type { Bulb } from '../devices/bulb.js'
import type { DeviceConfig } from '../devices/device-schema.js'
import type { BackendReachability, LockerFactory } from '../lock/index.js'
import type { MqttConnection } from '../mqtt/index.js'
import type { DaemonEvents } from './events.js'
import type { HolderView } from './holders.js'
import type { ReloadOutcome } from './reload.js'

/**
 * Everything an extension may use, in one object (never positional arguments). What it holds is the daemon's own:
 * read it, listen to it, publish through it; only the daemon builds, reloads and stops it.
 */
export interface DaemonContext {
  /** The loaded config file. */
  readonly config: GenlockConfig
  readonly logger: Logger
  /** The daemon's one broker connection (a MessageBus: subscribe, publish). */
  readonly bus: MqttConnection
  /** The gen-lock factory every automation (and manual control) locks through. */
  readonly locks: LockerFactory
  readonly engine: AutomationEngine
  /** The bulbs by device id; always current (the same map across reloads). */
  readonly devices: ReadonlyMap<string, Bulb>
  /** The device file a running bulb was built from (its settings, e.g. `outside_changes`). */
  deviceConfig(id: string): DeviceConfig | undefined
  /** The automation definitions in use, in file order; always current. */
  readonly automations: readonly AutomationDefinition[]
  /** Who holds each device's lock right now, from lock events (never stale). */
  readonly holders: HolderView
  readonly events: DaemonEvents
  /** Where state between runs goes (`data_dir`); exists. Use src/store's StateFile for files in it. */
  readonly dataDir: string
  /** Whether the lock backend (Redis) answers; absent for the in-memory locks, which always do. */
  readonly lockBackend?: BackendReachability | undefined
  /** What the last load or reload of devices/ and automations/ found: the current file problems among it. */
  readonly lastReload: ReloadOutcome
  /** Re-reads devices/ and automations/ and applies what changed (what file watching calls). */
  reload(): Promise<ReloadOutcome>
}

/**
 * A feature plugged into the daemon: Home Assistant, the state topics, file watching, and phase B's traces,
 * health, metrics and dashboard. The daemon starts extensions in order once devices and automations are loaded,
 * before it says `online`, and stops them in reverse order before anything they use goes away. An extension talks
 * to the rest through the context and its event bus, never to another extension.
 *
 * @example
 * class Greeter implements Extension {
 *   readonly name = 'greeter'
 *   start(context: DaemonContext) {
 *     context.events.on(this, 'automationStatus', (s) => context.logger.info({ s }, 'status'))
 *   }
 *   stop() {} // the daemon removes this extension's listeners after stop()
 * }
 */
export interface Extension {
  /** Short and unique: it names the extension in logs. */
  readonly name: string
  start(context: DaemonContext): void | Promise<void>
  stop(): void | Promise<void>
}

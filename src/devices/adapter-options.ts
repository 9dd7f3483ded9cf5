/**
 * What every adapter's bulb takes from a device file and from the daemon, in one place: the synchronous
 * `createBulb` (bulb-factory.ts) and the lazy `loadBulb` (adapter-loader.ts) build bulbs through the same
 * per-adapter `create` functions with these.
 */
import type { DeviceConfig } from './device-schema.js'
import type { DeviceLogger } from './logger.js'
import type { MqttLink } from './mqtt/mqtt-link.js'

/** What adapters may need from the daemon. */
export interface AdapterDeps {
  /** The daemon's MQTT connection (a MessageBus fits); required by `adapter: mqtt` devices. */
  readonly mqtt?: MqttLink
  /** A pino logger (or anything with debug/info/warn/error); secrets never reach it. */
  readonly logger?: DeviceLogger
}

/** The device config of one adapter. */
export type AdapterConfig<Kind extends DeviceConfig['adapter']> = Extract<DeviceConfig, { adapter: Kind }>

/** The queue settings a device file carries, in the shape the bulbs take. */
export function queueOptions(config: DeviceConfig) {
  return { timeoutMs: config.timeoutMs, retries: config.retries, backoffMs: config.backoffMs }
}

/** The options every adapter's bulb takes, from its device file and the daemon's logger. */
export function commonOptions(config: DeviceConfig, deps: AdapterDeps) {
  return {
    id: config.id,
    name: config.name ?? config.id,
    capabilities: config.capabilities,
    queue: queueOptions(config),
    ...(deps.logger ? { logger: deps.logger } : {}),
  }
}

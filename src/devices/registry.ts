/**
 * From device files to bulbs: `readDeviceFiles('devices')` validates them, `createBulb(config, deps)` builds the
 * adapter each one names, `createSimulatedBulb(config)` builds a sim twin (same id, name and capabilities) for
 * `genlock simulate` and tests.
 */
import type { Bulb } from './bulb.js'
import type { DeviceConfig } from './device-schema.js'
import type { DeviceLogger } from './logger.js'
import type { MqttLink } from './mqtt/mqtt-link.js'
import { SimBulb } from './sim/sim-bulb.js'

export { readDeviceDirectory, readDeviceFile, readDeviceFiles, type DeviceFile } from './device-files.js'
export type { DeviceConfig } from './device-schema.js'

/** What adapters may need from the daemon. */
export interface AdapterDeps {
  /** The daemon's MQTT connection (a MessageBus fits); required by `adapter: mqtt` devices. */
  readonly mqtt?: MqttLink
  /** A pino logger (or anything with debug/info/warn/error); secrets never reach it. */
  readonly logger?: DeviceLogger
}

/** The queue settings a device file carries, in the shape the bulbs take. */
export function queueOptions(config: DeviceConfig) {
  return { timeoutMs: config.timeoutMs, retries: config.retries, backoffMs: config.backoffMs }
}

/**
 * Builds the bulb a validated device config describes. Call `start()` on it before use.
 *
 * @example
 * const bulbs = readDeviceFiles('devices').map((config) => createBulb(config, { mqtt: bus, logger }))
 */
export function createBulb(config: DeviceConfig, deps: AdapterDeps = {}): Bulb {
  const logger = deps.logger
  switch (config.adapter) {
    case 'sim':
      return new SimBulb({
        id: config.id,
        name: config.name ?? config.id,
        capabilities: config.capabilities,
        latencyMs: config.latencyMs,
        failureRate: config.failureRate,
        queue: queueOptions(config),
        ...(logger ? { logger } : {}),
      })
    default:
      throw new Error(`${config.id}: adapter '${config.adapter}' is not available in this build yet`)
  }
}

/**
 * A simulated twin of the device `config` describes: same id, name and capabilities, but in memory, so automations
 * can be tried without touching real bulbs. The twin answers at once and never fails.
 */
export function createSimulatedBulb(config: DeviceConfig, deps: Pick<AdapterDeps, 'logger'> = {}): SimBulb {
  return new SimBulb({
    id: config.id,
    name: config.name ?? config.id,
    capabilities: config.capabilities,
    queue: queueOptions(config),
    ...(deps.logger ? { logger: deps.logger } : {}),
  })
}

/**
 * From device files to bulbs: `readDeviceFiles('devices')` validates them, `createBulb(config, deps)` builds the
 * adapter each one names, `createSimulatedBulb(config)` builds a sim twin (same id, name and capabilities) for
 * `genlock simulate` and tests.
 */
import type { Bulb } from './bulb.js'
import type { DeviceConfig } from './device-schema.js'
import type { DeviceLogger } from './logger.js'
import type { MqttLink } from './mqtt/mqtt-link.js'
import { HueBulb } from './hue/hue-bulb.js'
import { KasaBulb } from './kasa/kasa-bulb.js'
import { MqttBulb } from './mqtt/mqtt-bulb.js'
import { tasmotaProtocol } from './mqtt/tasmota.js'
import { zigbee2mqttProtocol } from './mqtt/zigbee2mqtt.js'
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
  const common = {
    id: config.id,
    name: config.name ?? config.id,
    capabilities: config.capabilities,
    queue: queueOptions(config),
    ...(deps.logger ? { logger: deps.logger } : {}),
  }
  switch (config.adapter) {
    case 'sim':
      return new SimBulb({ ...common, latencyMs: config.latencyMs, failureRate: config.failureRate })
    case 'hue':
      return new HueBulb({
        ...common,
        host: config.host,
        ...(config.port === undefined ? {} : { port: config.port }),
        username: config.username,
        light: config.light,
        insecure: config.insecure,
        gamut: config.gamut,
        ...(config.ca === undefined ? {} : { caFile: config.ca }),
      })
    case 'kasa':
      return new KasaBulb({
        ...common,
        host: config.host,
        port: config.port,
        transport: config.transport,
        protocol: config.protocol,
        httpPort: config.httpPort,
        username: config.username,
        password: config.password,
        pollMs: config.poll,
      })
    case 'mqtt': {
      if (!deps.mqtt) {
        throw new Error(`${config.id}: adapter 'mqtt' needs an MQTT connection (set mqtt.url in config.yaml)`)
      }
      const protocol =
        config.preset === 'tasmota'
          ? tasmotaProtocol(config.topic)
          : zigbee2mqttProtocol(config.topic, config.colorFormat)
      return new MqttBulb({ ...common, link: deps.mqtt, protocol, topic: config.topic, confirm: config.confirm })
    }
  }
}

/**
 * A simulated twin of the device `config` describes: same id, name and capabilities, but in memory, so automations
 * can be tried without touching real bulbs. The twin answers at once and never fails.
 */
export function createSimulatedBulb(
  config: DeviceConfig,
  deps: Pick<AdapterDeps, 'logger'> & { readonly clock?: () => number } = {},
): SimBulb {
  return new SimBulb({
    id: config.id,
    name: config.name ?? config.id,
    capabilities: config.capabilities,
    queue: queueOptions(config),
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
  })
}

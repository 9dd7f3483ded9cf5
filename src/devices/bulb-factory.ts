/**
 * From device files to bulbs: `readDeviceFiles('devices')` validates them, `createBulb(config, deps)` builds the
 * adapter each one names, `createSimulatedBulb(config)` builds a sim twin (same id, name and capabilities) for
 * `genlock simulate` and tests. This module loads every adapter; the daemon uses `loadBulb` (adapter-loader.ts),
 * which loads only the adapters its device files name.
 */
import type { AdapterDeps } from './adapter-options.js'
import type { Bulb } from './bulb.js'
import type { DeviceConfig } from './device-schema.js'
import { create as createHue } from './hue/create.js'
import { create as createKasa } from './kasa/create.js'
import { create as createMqtt } from './mqtt/create.js'
import { create as createSim } from './sim/create.js'

export { queueOptions, type AdapterDeps } from './adapter-options.js'
export { readDeviceDirectory, readDeviceFile, readDeviceFiles, type DeviceFile } from './device-files.js'
export type { DeviceConfig } from './device-schema.js'
export { createSimulatedBulb } from './sim/create.js'

/**
 * Builds the bulb a validated device config describes. Call `start()` on it before use.
 *
 * @example
 * const bulbs = readDeviceFiles('devices').map((config) => createBulb(config, { mqtt: bus, logger }))
 */
export function createBulb(config: DeviceConfig, deps: AdapterDeps = {}): Bulb {
  switch (config.adapter) {
    case 'sim':
      return createSim(config, deps)
    case 'hue':
      return createHue(config, deps)
    case 'kasa':
      return createKasa(config, deps)
    case 'mqtt':
      return createMqtt(config, deps)
  }
}

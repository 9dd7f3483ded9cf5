import { commonOptions, queueOptions, type AdapterConfig, type AdapterDeps } from '../adapter-options.js'
import type { DeviceConfig } from '../device-schema.js'
import { SimBulb } from './sim-bulb.js'

/** The bulb an `adapter: sim` device file describes. */
export function create(config: AdapterConfig<'sim'>, deps: AdapterDeps): SimBulb {
  return new SimBulb({ ...commonOptions(config, deps), latencyMs: config.latencyMs, failureRate: config.failureRate })
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

import { HueBulb, type HueBulbOptions } from '../../../src/devices/hue/hue-bulb.js'
import type { HueBridgeSimulator } from '../../../src/simulators/hue-bridge.js'

/** A colour lamp with white 2000–6500 K, as most device files describe one. */
export const HUE_COLOR_CAPS = { dimmable: true, color: true, colorTemp: { min: 2000, max: 6500 } }

/**
 * A HueBulb (`bath_bulb`) for light 1 of the simulated `bridge`, trusting the simulator's CA, with no retry
 * backoff and a short event-stream backoff so tests wait for events, not for timers. `overrides` win.
 */
export function simulatedHueBulb(
  bridge: HueBridgeSimulator,
  key: string,
  overrides: Partial<HueBulbOptions> = {},
): HueBulb {
  return new HueBulb({
    id: 'bath_bulb',
    capabilities: HUE_COLOR_CAPS,
    host: '127.0.0.1',
    port: bridge.port,
    username: key,
    light: 1,
    ca: bridge.ca,
    queue: { backoffMs: 0 },
    streamBackoff: { initialMs: 10, maxMs: 40 },
    ...overrides,
  })
}

/** Resolves once the bridge has an event stream open (a bulb opens it in the background at start). */
export function streamOpen(bridge: HueBridgeSimulator): Promise<void> {
  if (bridge.openStreams > 0) return Promise.resolve()
  return new Promise((resolve) => bridge.on('event', (event) => event.type === 'stream' && event.open > 0 && resolve()))
}

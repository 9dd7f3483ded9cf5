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

/**
 * A way to wait until a bulb on `bridge` has heard every event the bridge sent so far. Events and reads travel on
 * different connections, so a read can overtake an event sent before it; the event stream itself is ordered, and
 * every bulb of one bridge (and key) shares it. So the witness, a second bulb on light 2, is sent a change from the
 * app: once it hears that, every earlier event has reached the other bulbs too.
 */
export async function streamWitness(
  bridge: HueBridgeSimulator,
  key: string,
): Promise<{ caughtUp(): Promise<void>; stop(): Promise<void> }> {
  const witness = simulatedHueBulb(bridge, key, { id: 'stream_witness', light: 2 })
  await witness.start()
  let mark = 0
  return {
    caughtUp: async () => {
      // 10, 20 … 90 in turn: each differs from the one before by more than the 1 % a Hue echo may be off, so the
      // bridge always sends an event and the witness always takes it as news.
      const brightness = 10 + (mark++ % 9) * 10
      const heard = new Promise<void>((resolve) => {
        const off = witness.subscribe((event) => {
          if (event.type !== 'state' || event.state.brightness !== brightness) return
          off()
          resolve()
        })
      })
      bridge.changeFromApp(2, { on: true, brightness })
      await heard
    },
    stop: () => witness.stop(),
  }
}

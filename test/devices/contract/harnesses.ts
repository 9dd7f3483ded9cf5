import { converter } from 'culori'
import type { Rgb } from '../../../src/devices/bulb.js'
import { xyToRgb, type Xy } from '../../../src/devices/color.js'
import { KasaBulb } from '../../../src/devices/kasa/kasa-bulb.js'
import { MqttBulb } from '../../../src/devices/mqtt/mqtt-bulb.js'
import { zigbee2mqttProtocol } from '../../../src/devices/mqtt/zigbee2mqtt.js'
import { SimBulb } from '../../../src/devices/sim/sim-bulb.js'
import { HueBridgeSimulator } from '../../../src/simulators/hue-bridge.js'
import { KasaSimulator } from '../../../src/simulators/kasa.js'
import { Zigbee2MqttLights } from '../../../src/simulators/zigbee2mqtt-lights.js'
import { simulatedHueBulb, streamOpen, streamWitness } from '../support/hue.js'
import { MqttTestLink } from '../support/mqtt-test-link.js'
import { CONTRACT_QUEUE, type LiveReportsHarness } from './bulb-contract.js'
import type { OutsideChangeHarness } from './outside-change-contract.js'

const toHsv = converter('hsv')
const CAPS = { dimmable: true, color: true, colorTemp: { min: 2000, max: 6500 } }

function hueOfRgb(rgb: Rgb): number {
  return toHsv({ mode: 'rgb', r: rgb.r / 255, g: rgb.g / 255, b: rgb.b / 255 }).h ?? 0
}

function hueOfXy(xy: readonly number[]): number {
  return hueOfRgb(xyToRgb({ x: xy[0]!, y: xy[1]! }))
}

export async function simHarness(): Promise<OutsideChangeHarness> {
  const bulb = new SimBulb({ id: 'bath_bulb', capabilities: CAPS, queue: CONTRACT_QUEUE })
  await bulb.start()
  return {
    bulb,
    receivedBrightness: () =>
      bulb.commandLog.flatMap((entry) => (entry.command.brightness === undefined ? [] : [entry.state.brightness])),
    lastHue: () => hueOfRgb(bulb.commandLog.at(-1)!.state.color!),
    failNext: () => bulb.failNext(),
    hang: (hung) => bulb.setHung(hung),
    unplug: async () => bulb.setReachable(false),
    changeFromApp: async (change) => void bulb.changeFromApp(change),
    observe: async () => void (await bulb.getStatus()),
    dispose: async () => {},
  }
}

/** A Hue light on the simulated bridge, over CLIP v2 and HTTPS (the simulator's CA trusted through `ca`). */
export async function hueHarness(): Promise<LiveReportsHarness> {
  const bridge = await HueBridgeSimulator.start({ users: ['contract-user'] })
  const bulb = simulatedHueBulb(bridge, 'contract-user', { capabilities: CAPS, queue: CONTRACT_QUEUE })
  await bulb.start()
  await streamOpen(bridge)
  const stream = await streamWitness(bridge, 'contract-user')
  const bodies = () =>
    bridge.lightCommands(1).map(({ body }) => body as { dimming?: { brightness: number }; color?: { xy: Xy } })
  return {
    bulb,
    receivedBrightness: () => bodies().flatMap((body) => (body.dimming ? [body.dimming.brightness] : [])),
    lastHue: () => {
      const { xy } = bodies().at(-1)!.color!
      return hueOfXy([xy.x, xy.y])
    },
    failNext: () => (bridge.fault = 'busy-once'),
    hang: (hung) => (bridge.fault = hung ? 'hang' : 'none'),
    unplug: async () => bridge.setConnected(1, false),
    changeFromApp: async ({ on, brightness }) => bridge.changeFromApp(1, { on, brightness }),
    // The pushed state first, then a read: a read must not overtake the events the bridge sent before it.
    observe: async () => {
      await stream.caughtUp()
      await bulb.getStatus()
    },
    reports: {
      cut: async (cut) => {
        bridge.refuseEventStreams(cut)
        if (cut) bridge.dropEventStreams()
      },
    },
    dispose: async () => {
      await stream.stop()
      await bridge.stop()
    },
  }
}

/** The TP-Link account the KLAP harness's bulb is bound to. */
const KASA_ACCOUNT = { username: 'contract@example.com', password: 'contract-secret' }

/** A Kasa harness speaking `protocol` to the Kasa simulator. */
export function kasaHarness(protocol: 'legacy' | 'klap'): () => Promise<OutsideChangeHarness> {
  return () => startKasaHarness(protocol)
}

async function startKasaHarness(protocol: 'legacy' | 'klap'): Promise<OutsideChangeHarness> {
  const sim = await KasaSimulator.start({ port: 0, models: ['lb130'], protocol, credentials: KASA_ACCOUNT })
  const device = sim.bulbs[0]!
  const states = () =>
    device.requests.flatMap(({ request, outcome }) => {
      const service = request['smartlife.iot.smartbulb.lightingservice'] as Record<string, unknown> | undefined
      const state = service?.transition_light_state as { brightness?: number; hue?: number } | undefined
      return outcome === 'answered' && state ? [state] : []
    })
  const bulb = new KasaBulb({
    id: 'bath_bulb',
    capabilities: CAPS,
    host: '127.0.0.1',
    ...(protocol === 'klap' ? { protocol, httpPort: device.port, ...KASA_ACCOUNT } : { protocol, port: device.port }),
    queue: CONTRACT_QUEUE,
  })
  await bulb.start()
  return {
    bulb,
    receivedBrightness: () => states().flatMap((state) => (state.brightness === undefined ? [] : [state.brightness])),
    lastHue: () => states().at(-1)!.hue!,
    failNext: () => device.resetNext(),
    hang: (hung) => device.hang(hung),
    unplug: () => device.unplug(),
    changeFromApp: async (change) => device.changeFromApp({ on_off: change.on ? 1 : 0, brightness: change.brightness }),
    observe: async () => void (await bulb.getStatus()),
    dispose: () => sim.stop(),
  }
}

/** The MQTT harness needs a broker; `brokerUrl` is a real mosquitto started by the suite. */
export function mqttHarness(brokerUrl: () => string): () => Promise<OutsideChangeHarness> {
  let count = 0
  return async () => {
    const daemonLink = await MqttTestLink.connect(brokerUrl())
    const lights = await Zigbee2MqttLights.start({
      url: brokerUrl(),
      names: [`contract_${process.pid}_${++count}`],
    })
    const light = lights.lights[0]!
    const bulb = new MqttBulb({
      id: 'bath_bulb',
      capabilities: CAPS,
      link: daemonLink,
      topic: light.topic,
      protocol: zigbee2mqttProtocol(light.topic),
      queue: CONTRACT_QUEUE,
    })
    const followed = new Promise<void>((resolve) =>
      bulb.subscribe((event) => event.type === 'state' && event.state.reachable && resolve()),
    )
    await bulb.start()
    await followed
    const answered = () =>
      light.requests.flatMap(({ command, outcome }) =>
        outcome === 'answered' ? [command as { brightness?: number; color?: { x: number; y: number } }] : [],
      )
    return {
      bulb,
      receivedBrightness: () =>
        answered().flatMap((body) =>
          body.brightness === undefined ? [] : [Math.round((body.brightness * 100) / 254)],
        ),
      lastHue: () => {
        const color = answered().at(-1)!.color!
        return hueOfXy([color.x, color.y])
      },
      failNext: () => light.dropNext(),
      hang: (hung) => light.hang(hung),
      unplug: async () => {
        const offline = new Promise<void>((resolve) =>
          bulb.subscribe((event) => event.type === 'availability' && !event.reachable && resolve()),
        )
        await light.setAvailability(false)
        await offline
      },
      changeFromApp: (change) =>
        light.changeFromApp({ state: change.on ? 'ON' : 'OFF', brightness: Math.round(change.brightness * 2.54) }),
      observe: async () => void (await bulb.getStatus()),
      dispose: async () => {
        await lights.stop()
        await daemonLink.end()
      },
    }
  }
}

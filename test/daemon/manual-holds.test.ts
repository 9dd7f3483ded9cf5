/**
 * A person's change holds the bulb, with every adapter on its simulator (sim, Zigbee2MQTT, Hue CLIP v2 with its
 * event stream, Kasa legacy and KLAP): a change made in the app during the party holds the bulb at the manual
 * priority, the party stays suspended, the alarm still preempts the hold and the person's choice comes back after
 * it; the hold ends on release, on time, or when the person switches the bulb off, and the party resumes in its own
 * look. genlock's own commands, echoed back by the bulb, never count as a person's change.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RunEvent } from '../../src/automation/index.js'
import type { SimBulb } from '../../src/devices/index.js'
import { HueBridgeSimulator } from '../../src/simulators/hue-bridge.js'
import { KasaSimulator } from '../../src/simulators/kasa.js'
import { Zigbee2MqttLights } from '../../src/simulators/zigbee2mqtt-lights.js'
import { ALARM, PARTY, writeSetup } from '../cli/setup-files.js'
import { Observer } from '../mqtt/observer.js'
import { startMosquitto, type ServiceProcess } from '../support/services.js'
import { startTestDaemon, type TestDaemon } from './harness.js'

/** The alarm with short waits (the party's are the peer's), so a test takes a second, not ten. */
const FAST_ALARM = ALARM.replaceAll('wait: 500ms', 'wait: 100ms')
const CAPS = 'capabilities: { dimmable: true, color: true, colorTemp: { min: 2000, max: 6500 } }\n'

/** One adapter on its simulator: the device file genlock gets, and a change made in the bulb's own app. */
interface Peer {
  readonly device: string
  /**
   * The party's wait between steps. A polled bulb (Kasa) sees a change made in its app only at its next read: a
   * party step landing before that read overwrites the change unseen, so the party waits several reads long.
   */
  readonly partyWait?: string
  changeFromApp(daemon: TestDaemon, change: { on: boolean; brightness: number }): Promise<void>
  stop(): Promise<void>
}

type PeerFactory = (broker: string) => Promise<Peer>

const KASA_ACCOUNT = { username: 'holds@example.com', password: 'holds-secret' }

const peers: Record<string, PeerFactory> = {
  sim: async () => ({
    device: `id: bath_bulb\nadapter: sim\n${CAPS}`,
    changeFromApp: async (daemon, change) => void (daemon.bulb('bath_bulb') as SimBulb).changeFromApp(change),
    stop: async () => {},
  }),
  zigbee2mqtt: async (broker) => {
    const lights = await Zigbee2MqttLights.start({ url: broker, names: [`holds_${process.pid}_${Date.now()}`] })
    const light = lights.lights[0]!
    return {
      device: `id: bath_bulb\nadapter: mqtt\ntopic: ${light.topic}\n${CAPS}`,
      changeFromApp: (_daemon, change) =>
        light.changeFromApp({ state: change.on ? 'ON' : 'OFF', brightness: Math.round(change.brightness * 2.54) }),
      stop: () => lights.stop(),
    }
  },
  'hue v2': async () => {
    const bridge = await HueBridgeSimulator.start({ users: ['holds-user'] })
    const { dir } = writeSetup({ config: '' })
    const ca = join(dir, 'hue-ca.pem')
    writeFileSync(ca, bridge.ca)
    return {
      device: `id: bath_bulb\nadapter: hue\nhost: 127.0.0.1\nport: ${bridge.port}\nusername: holds-user\nlight: 1\nca: ${ca}\n${CAPS}`,
      changeFromApp: async (_daemon, change) => bridge.changeFromApp(1, change),
      stop: () => bridge.stop(),
    }
  },
  'kasa legacy': (broker) => kasaPeer('legacy', broker),
  'kasa klap': (broker) => kasaPeer('klap', broker),
}

async function kasaPeer(protocol: 'legacy' | 'klap', _broker: string): Promise<Peer> {
  const sim = await KasaSimulator.start({ port: 0, models: ['lb130'], protocol, credentials: KASA_ACCOUNT })
  const bulb = sim.bulbs[0]!
  const where =
    protocol === 'klap'
      ? `protocol: klap\nhttpPort: ${bulb.port}\nusername: ${KASA_ACCOUNT.username}\npassword: ${KASA_ACCOUNT.password}\n`
      : `protocol: legacy\nport: ${bulb.port}\n`
  return {
    device: `id: bath_bulb\nadapter: kasa\nhost: 127.0.0.1\n${where}poll: 100ms\n${CAPS}`,
    partyWait: '1s',
    changeFromApp: async (_daemon, change) =>
      bulb.changeFromApp({ on_off: change.on ? 1 : 0, brightness: change.brightness }),
    stop: () => sim.stop(),
  }
}

let mosquitto: ServiceProcess & { url: string }
let home: Observer
const running: { daemon?: TestDaemon; peer?: Peer } = {}

beforeAll(async () => {
  mosquitto = await startMosquitto()
  home = await Observer.connect(mosquitto.url, [])
})
afterEach(async () => {
  await running.daemon?.daemon.stop()
  await running.peer?.stop()
  running.daemon = undefined
  running.peer = undefined
})
afterAll(async () => {
  await home?.close()
  await mosquitto?.dispose()
})

/** The daemon with the party and the alarm on the peer's bulb, and ways to wait for what it does. */
async function start(makePeer: PeerFactory, manual = '') {
  const peer = await makePeer(mosquitto.url)
  running.peer = peer
  const genlock = await startTestDaemon(
    mosquitto.url,
    {
      devices: { 'bath_bulb.yaml': peer.device },
      automations: {
        'party.yaml': PARTY.replaceAll('wait: 1s', `wait: ${peer.partyWait ?? '150ms'}`),
        'alarm.yaml': FAST_ALARM,
      },
    },
    manual,
  )
  running.daemon = genlock
  const { daemon } = genlock
  const commands: RunEvent[] = []
  const waiters: (() => void)[] = []
  daemon.engine.on('run', (event) => {
    if (event.type !== 'command') return
    commands.push(event)
    for (const waiter of waiters.splice(0)) waiter()
  })
  /** Resolves once `test` holds for the commands automations sent so far (re-checked on each new one). */
  const commandsUntil = async (test: (all: RunEvent[]) => boolean) => {
    while (!test(commands)) await new Promise<void>((resolve) => waiters.push(resolve))
  }
  const count = (automation: string, from = 0) => commands.slice(from).filter((c) => c.automation === automation).length
  /** Resolves once `id`'s holder is `holder` (from lock events, at once if it is now). */
  const holder = (holder: string | undefined) =>
    new Promise<void>((resolve) => {
      const owner = { name: `test-${Math.random()}` }
      const check = () => {
        if (daemon.holders.holderOf('bath_bulb') !== holder) return
        daemon.events.removeListeners(owner)
        resolve()
      }
      daemon.events.on(owner, 'lock', check)
      check()
    })
  /** Resolves once the bulb's known state passes `test` (from device events, at once if it does now). */
  const bulbState = (test: (state: { on: boolean; brightness: number }) => boolean) =>
    new Promise<void>((resolve) => {
      const owner = { name: `test-${Math.random()}` }
      const check = () => {
        if (!test(daemon.devices.get('bath_bulb')!.state)) return
        daemon.events.removeListeners(owner)
        resolve()
      }
      daemon.events.on(owner, 'deviceEvent', check)
      check()
    })
  const outsideChanges = () => genlock.logs.entries.filter((e) => String(e.msg).includes('was changed outside genlock'))
  const partyState = () => daemon.engine.status().find((s) => s.name === 'party')?.state
  const app = (change: { on: boolean; brightness: number }) => peer.changeFromApp(genlock, change)
  return { genlock, daemon, commands, commandsUntil, count, holder, bulbState, outsideChanges, partyState, app }
}

/** The party's look after the alarm: its first command once it has the bulb back puts its own look back. */
function partyLookBack(commands: RunEvent[], from: number): RunEvent & { type: 'command' } {
  const first = commands.slice(from).find((c) => c.automation === 'party')
  if (!first || first.type !== 'command') throw new Error('no party command')
  return first
}

describe.each(Object.keys(peers))('manual holds on %s', (name) => {
  const makePeer = peers[name]!

  it('party → the app dims the bulb → alarm → alarm ends → the person’s choice is back → release → party resumes in its look', async () => {
    const t = await start(makePeer)
    await home.client.publishAsync('home/party', 'ON')
    await t.commandsUntil(() => t.count('party') >= 2)
    // genlock's own commands, echoed by the bulb, are not a person's change.
    expect(t.outsideChanges()).toEqual([])

    await t.app({ on: true, brightness: 30 })
    await t.holder('manual')
    expect(t.outsideChanges()).toHaveLength(1)
    expect(t.partyState()).toBe('suspended')
    const held = t.commands.length

    await home.client.publishAsync('home/alarm', 'ON')
    await t.holder('alarm')
    await t.commandsUntil(() => t.count('alarm', held) >= 3)
    await home.client.publishAsync('home/alarm', 'OFF')
    // The hold comes back after the alarm, and with it the person's 30 %.
    await t.holder('manual')
    await t.bulbState((state) => state.on && Math.abs(state.brightness - 30) <= 1)
    // The alarm's commands and manual control's putting back are genlock's own: still one person's change.
    expect(t.outsideChanges()).toHaveLength(1)
    expect(t.count('party', held)).toBe(0)

    const released = t.commands.length
    await home.client.publishAsync(`${t.genlock.baseTopic}/device/bath_bulb/release`, 'RELEASE')
    await t.holder('party')
    await t.commandsUntil(() => t.count('party', released) >= 2)
    const look = partyLookBack(t.commands, released)
    expect(look.command).toMatchObject({ on: true, brightness: 80 })
    expect(t.partyState()).toBe('running')
    expect(t.outsideChanges()).toHaveLength(1)
  })

  it('the hold ends when its time runs out, and the party resumes in its look', async () => {
    const t = await start(makePeer, 'manual: { hold: 600ms }')
    await home.client.publishAsync('home/party', 'ON')
    await t.commandsUntil(() => t.count('party') >= 2)

    await t.app({ on: true, brightness: 30 })
    await t.holder('manual')
    const held = t.commands.length
    // Nothing but time ends this hold.
    const timedOut = t.genlock.logs.waitFor((e) => String(e.msg).includes('its time (600ms) ran out'))
    await t.holder('party')
    await timedOut
    expect(t.count('party', held)).toBe(0)
    await t.commandsUntil(() => t.count('party', held) >= 1)
    expect(partyLookBack(t.commands, held).command).toMatchObject({ on: true, brightness: 80 })
  })

  it('the hold ends when the person switches the bulb off, and the party resumes', async () => {
    const t = await start(makePeer)
    await home.client.publishAsync('home/party', 'ON')
    await t.commandsUntil(() => t.count('party') >= 2)
    await t.app({ on: true, brightness: 20 })
    await t.holder('manual')
    const held = t.commands.length
    const off = t.genlock.logs.waitFor((e) => String(e.msg).includes('ended: switched off outside genlock'))
    await t.app({ on: false, brightness: 20 })
    await off
    await t.holder('party')
    await t.commandsUntil(() => t.count('party', held) >= 1)
    expect(partyLookBack(t.commands, held).command).toMatchObject({ on: true, brightness: 80 })
    expect(t.outsideChanges()).toHaveLength(2)
  })
})

describe('manual holds and outside_changes: ignore', () => {
  it('a device that ignores outside changes follows them without holding the bulb', async () => {
    const t = await start(async () => {
      const sim = await peers.sim!(mosquitto.url)
      return { ...sim, device: `${sim.device}outside_changes: ignore\n` }
    })
    await home.client.publishAsync('home/party', 'ON')
    await t.commandsUntil(() => t.count('party') >= 1)
    const from = t.commands.length
    await t.app({ on: true, brightness: 30 })
    await t.bulbState((state) => state.brightness === 30)
    await t.commandsUntil(() => t.count('party', from) >= 2)
    expect(t.daemon.holders.holderOf('bath_bulb')).toBe('party')
    expect(t.outsideChanges()).toEqual([])
  })
})

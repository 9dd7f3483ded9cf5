import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDefaultMosquitto, type ServiceProcess } from '../support/services.js'
import { writeHome, type Home } from './support/home.js'
import { installedPackage, type InstalledPackage } from './support/installed-package.js'
import { MqttPeer } from './support/mqtt-peer.js'
import { UserProcess } from './support/user-cli.js'

const installed: InstalledPackage = await installedPackage()

const BASE = 'ha_e2e'
const TRIGGER = 'home/arrived'
const RAN = 'e2e/arrived'

/** Runs on every trigger (queued, so none is dropped for being busy) and says which one it ran. */
const ARRIVED = `name: arrived
priority: 0
devices: [hall]
mode: queued
trigger:
  - mqtt: ${TRIGGER}
steps:
  - set: { on: true, brightness: 70 }
  - publish: { topic: ${RAN}, payload: "{{ trigger.payload }}" }
`

let mosquitto: ServiceProcess & { url: string }
let homeAssistant: MqttPeer
let home: Home
let daemon: UserProcess | undefined
let onlineTriggers: () => number

/** The payloads of the runs so far, in order. */
const ran = () => homeAssistant.received.filter((message) => message.topic === RAN).map((message) => message.payload)

beforeAll(async () => {
  mosquitto = await startDefaultMosquitto()
  homeAssistant = await MqttPeer.connect(mosquitto.url, 'e2e-home-assistant-online')
  await homeAssistant.subscribe(`${BASE}/status`)
  await homeAssistant.subscribe(RAN)
  // Home Assistant's way: an automation fires when genlock's availability turns online, and publishes at once.
  onlineTriggers = homeAssistant.publishWhenOnline(BASE, TRIGGER, () => `online-${onlineTriggers() + 1}`)
  home = writeHome({
    mqtt: `{ url: "${mosquitto.url}", base_topic: ${BASE}, client_id: genlock-e2e-online }`,
    devices: [{ name: 'hall.yaml', text: 'id: hall\nadapter: sim\n' }],
    automations: { arrived: ARRIVED },
  })
}, 60_000)

afterAll(async () => {
  await daemon?.stop()
  await homeAssistant?.end()
  await mosquitto?.dispose()
  if (home) rmSync(home.dir, { recursive: true, force: true })
})

describe('`online` means ready: a trigger sent the instant genlock is online runs (issue 12.2)', () => {
  it('on a fresh broker, at start', async () => {
    const online = homeAssistant.next(`${BASE}/status`, (message) => message.payload === 'online')
    daemon = UserProcess.start(installed, ['run', '--config', home.config], { cwd: home.dir })
    await online
    await daemon.waitForLog((entry) => entry.msg === 'genlock ready')
    // A second trigger, sent after both `online-1` and the daemon's own "ready": it runs after online-1 if online-1
    // was delivered (same client, same topic: MQTT keeps the order), so once it has run, online-1 has or never will.
    const marker = homeAssistant.next(RAN, (message) => message.payload === 'after-ready')
    homeAssistant.publish(TRIGGER, 'after-ready')
    await marker
    expect(onlineTriggers()).toBe(1)
    expect(ran()).toEqual(['online-1', 'after-ready'])
  })

  it('after the broker restarts and has forgotten every session (mosquitto keeps none by default)', async () => {
    const before = onlineTriggers()
    const online = homeAssistant.next(`${BASE}/status`, (message) => message.payload === 'online')
    await mosquitto.restart()
    await online
    expect(onlineTriggers()).toBe(before + 1)
    // No later marker can prove a loss here (nothing says when the daemon has resubscribed, other than `online`
    // itself), so the run is awaited; a daemon that is right runs it within milliseconds.
    const expected = `online-${before + 1}`
    let timer: NodeJS.Timeout | undefined
    const lost = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${expected} never ran (runs so far: ${ran().join(', ')})`)), 10_000)
    })
    try {
      await Promise.race([homeAssistant.next(RAN, (message) => message.payload === expected, 0), lost])
    } finally {
      clearTimeout(timer)
    }
  })
})

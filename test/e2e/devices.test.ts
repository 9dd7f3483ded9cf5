import { rmSync } from 'node:fs'
import { Client as KasaClient } from 'tplink-smarthome-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDefaultMosquitto, type ServiceProcess } from '../support/services.js'
import { commandAutomation, deviceIdOf, writeHome, type Home } from './support/home.js'
import { installedPackage, type InstalledPackage } from './support/installed-package.js'
import { MqttPeer, type PeerMessage } from './support/mqtt-peer.js'
import {
  printedDeviceFiles,
  printedExports,
  runGenlock,
  UserProcess,
  type PrintedDeviceFile,
} from './support/user-cli.js'

const installed: InstalledPackage = await installedPackage()

const BASE = 'e2e'
const TRIGGER = 'home/e2e_lights'
const DONE = 'e2e/done'
const BRIGHTNESS = 50

/** Everything this file starts, so afterAll can stop what did start even when beforeAll failed half way. */
const started: UserProcess[] = []
let mosquitto: (ServiceProcess & { url: string }) | undefined
let peer: MqttPeer | undefined
let home: Home | undefined

/** The bulbs under test, by kind: the device file the CLI printed for it, and its id. */
const bulbs = new Map<'sim' | 'kasa' | 'hue' | 'mqtt', { file: PrintedDeviceFile; id: string }>()
let hueEnv: Record<string, string> = {}
let hueBridgeUrl = ''
let kasaDiscoveryPort = ''
let hueBridgeAddress = ''
/** Each automation's outcome after the first trigger: its done message, or the error its status reported. */
const outcomes = new Map<string, Promise<PeerMessage>>()

function start(args: string[], env?: NodeJS.ProcessEnv): UserProcess {
  const process = UserProcess.start(installed, args, { cwd: installed.prefix, ...(env ? { env } : {}) })
  started.push(process)
  return process
}

/** Resolves with the automation's done message; rejects with the error its retained status reports, if any. */
function outcomeOf(automation: string, device: string): Promise<PeerMessage> {
  const from = peer!.received.length
  const failed = peer!
    .next(`${BASE}/automation/${automation}`, (message) => /"last_error":"/.test(message.payload), from)
    .then((message) => {
      throw new Error(`${automation} failed: ${(JSON.parse(message.payload) as { last_error: string }).last_error}`)
    })
  return Promise.race([peer!.next(`${DONE}/${device}`, () => true, from), failed])
}

beforeAll(async () => {
  mosquitto = await startDefaultMosquitto()
  peer = await MqttPeer.connect(mosquitto.url, 'e2e-home-assistant')
  await peer.subscribe(`${BASE}/#`)
  await peer.subscribe('zigbee2mqtt/#')

  // The three network simulators, each as a user starts it, on ports of their own.
  const kasa = start(['sim', 'kasa', '--port', '0', '--count', '1'])
  const hue = start(['sim', 'hue', '--port', '0', '--count', '1'])
  const zigbee = start(['sim', 'mqtt', '--broker', mosquitto.url, '--count', '1'])
  for (const sim of [kasa, hue, zigbee]) await sim.waitFor(/^ready/m)
  kasaDiscoveryPort = (await kasa.waitFor(/discovery on udp [\d.]+:(\d+)/))[1]!
  hueBridgeUrl = (await hue.waitFor(/simulator on (https?:\/\/\S+)/))[1]!
  hueBridgeAddress = new URL(hueBridgeUrl).host

  // Pair with the bridge the way its console says: press the link button (Enter), then `genlock hue pair`.
  const pairArgs = (await hue.waitFor(/pair with:\s+genlock (hue pair .+)$/m))[1]!.trim().split(/\s+/)
  const pressed = hue.stdout.length
  hue.type('\n')
  await hue.waitFor(/link button pressed/, { from: pressed })
  const paired = await runGenlock(installed, pairArgs, { cwd: installed.prefix })
  expect(paired.code, paired.stderr).toBe(0)
  hueEnv = printedExports(paired.stdout)

  const simFile: PrintedDeviceFile = { name: 'desk.yaml', text: 'id: desk\nname: Desk\nadapter: sim\n' }
  const files = {
    sim: simFile,
    kasa: printedDeviceFiles(kasa.stdout)[0],
    hue: printedDeviceFiles(paired.stdout)[0],
    mqtt: printedDeviceFiles(zigbee.stdout)[0],
  }
  for (const [kind, file] of Object.entries(files)) {
    if (!file) throw new Error(`no device file printed for ${kind}`)
    bulbs.set(kind as 'sim', { file, id: deviceIdOf(file) })
  }
  const automations = Object.fromEntries(
    [...bulbs.values()].map(({ id }) => [
      `e2e_${id}`,
      commandAutomation({ name: `e2e_${id}`, device: id, trigger: TRIGGER, brightness: BRIGHTNESS, doneTopic: DONE }),
    ]),
  )
  home = writeHome({
    mqtt: `{ url: "${mosquitto.url}", base_topic: ${BASE}, client_id: genlock-e2e-devices }`,
    devices: [...bulbs.values()].map(({ file }) => file),
    automations,
  })
}, 180_000)

afterAll(async () => {
  await Promise.all(started.map((process) => process.stop()))
  await peer?.end()
  await mosquitto?.dispose()
  if (home) rmSync(home.dir, { recursive: true, force: true })
})

describe('the installed package against a default mosquitto, with the simulators as the CLI runs them', () => {
  it('genlock validate accepts the config and the device files the CLI printed', async () => {
    // With the environment the user exported as `hue pair` said (the Hue device files name ${HUE_USERNAME}).
    const result = await runGenlock(installed, ['validate', '--config', home!.config], { cwd: home!.dir, env: hueEnv })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/OK — 4 devices, 4 automations/)
  })

  describe('genlock run', () => {
    let daemon: UserProcess

    beforeAll(async () => {
      daemon = start(['run', '--config', home!.config], hueEnv)
      await daemon.waitForLog((entry) => entry.msg === 'genlock ready')
      for (const { id } of bulbs.values()) outcomes.set(id, outcomeOf(`e2e_${id}`, id))
      peer!.publish(TRIGGER, 'ON')
    }, 60_000)

    it('a sim bulb takes the command', async () => {
      const { id } = bulbs.get('sim')!
      await outcomes.get(id)
      const published = await peer!.next(`${BASE}/device/${id}`, (message) => /"on":true/.test(message.payload), 0)
      expect(JSON.parse(published.payload)).toMatchObject({ state: { on: true, brightness: BRIGHTNESS } })
    })

    it('a Kasa bulb (the Kasa protocol simulator) takes the command', async () => {
      const { id, file } = bulbs.get('kasa')!
      await outcomes.get(id)
      const { host, port } = /host: (?<host>\S+)[\s\S]*?port: (?<port>\d+)/.exec(file.text)!.groups!
      const device = await new KasaClient({ logLevel: 'silent' }).getDevice({ host: host!, port: Number(port) })
      const light = (await (
        device as { lighting: { getLightState(): Promise<unknown> } }
      ).lighting.getLightState()) as {
        on_off: number
        brightness: number
      }
      expect({ on: light.on_off, brightness: light.brightness }).toEqual({ on: 1, brightness: BRIGHTNESS })
    })

    it('a Hue bridge light (the Hue bridge simulator) takes the command', async () => {
      const { id, file } = bulbs.get('hue')!
      await outcomes.get(id)
      const light = /^light: (\S+)$/m.exec(file.text)![1]!
      const username = hueEnv[/username: \$\{(\w+)\}/.exec(file.text)![1]!]!
      // Read back over the simulator's plain-HTTP side (a bridge's port 80): genlock itself went through HTTPS with
      // the certificate checked against the CA the simulator printed.
      const response = await fetch(`${hueBridgeUrl.replace(/^https:/, 'http:')}/api/${username}/lights/${light}`)
      const state = ((await response.json()) as { state: { on: boolean; bri: number } }).state
      expect(state.on).toBe(true)
      expect(Math.abs(state.bri - Math.round((BRIGHTNESS * 254) / 100))).toBeLessThanOrEqual(1)
    })

    it('a Zigbee2MQTT light (genlock sim mqtt) takes the command', async () => {
      const { id, file } = bulbs.get('mqtt')!
      await outcomes.get(id)
      const topic = /^topic: (\S+)$/m.exec(file.text)![1]!
      const reported = await peer!.next(topic, (message) => /"state":"ON"/.test(message.payload), 0)
      const state = JSON.parse(reported.payload) as { state: string; brightness: number }
      expect(Math.abs(state.brightness - Math.round((BRIGHTNESS * 254) / 100))).toBeLessThanOrEqual(1)
    })

    /** `genlock status --json` from the install, once every run of the first trigger has ended. */
    async function statusAfterTheRuns() {
      await Promise.allSettled(outcomes.values())
      const result = await runGenlock(installed, ['status', '--config', home!.config, '--json'], { cwd: home!.dir })
      expect(result.code, result.stderr).toBe(0)
      return JSON.parse(result.stdout) as {
        status: string
        devices: { id: string; holder?: string | null }[]
        automations: { name: string; state: string }[]
      }
    }

    it('genlock status lists every bulb and automation the daemon runs', async () => {
      const state = await statusAfterTheRuns()
      expect(state.status).toBe('online')
      expect(state.devices.map((device) => device.id).sort()).toEqual([...bulbs.values()].map(({ id }) => id).sort())
      expect(state.automations.map((automation) => [automation.name, automation.state])).toEqual(
        [...bulbs.values()].map(({ id }) => [`e2e_${id}`, 'idle']).sort(),
      )
    })

    it('genlock status shows nobody holding a bulb once the runs have ended (issue 12.4)', async () => {
      const state = await statusAfterTheRuns()
      expect(state.devices.map((device) => [device.id, device.holder ?? null])).toEqual(
        state.devices.map((device) => [device.id, null]),
      )
    })

    it('genlock trigger starts an automation through its command topic', async () => {
      const { id } = bulbs.get('sim')!
      const done = peer!.next(`${DONE}/${id}`)
      const result = await runGenlock(installed, ['trigger', `e2e_${id}`, 'on', '--config', home!.config], {
        cwd: home!.dir,
      })
      expect(result).toMatchObject({ code: 0, stderr: '' })
      expect(result.stdout).toBe(`e2e_${id}: sent ON to ${BASE}/automation/e2e_${id}/set\n`)
      await done
    })

    it('genlock health says the daemon is online and its locks answer', async () => {
      const result = await runGenlock(installed, ['health', '--config', home!.config], { cwd: home!.dir })
      expect(result.stdout).not.toMatch(/FAIL/)
      expect(result.code).toBe(0)
    })
  })

  it('genlock discover finds the simulated Kasa bulb and prints its device file', async () => {
    const result = await runGenlock(
      installed,
      ['discover', '--no-hue', '--broadcast', '127.0.0.1', '--kasa-port', kasaDiscoveryPort, '--timeout', '1500'],
      { cwd: installed.prefix },
    )
    expect(result.stderr).toMatch(/^found 1 Kasa device and 0 Hue bridges\n$/)
    expect(printedDeviceFiles(result.stdout).map(deviceIdOf)).toEqual([bulbs.get('kasa')!.id])
  })

  it('genlock discover finds the simulated Hue bridge and says how to pair with it', async () => {
    const result = await runGenlock(
      installed,
      ['discover', '--no-kasa', '--ssdp', hueBridgeAddress, '--mdns', hueBridgeAddress, '--timeout', '1500'],
      { cwd: installed.prefix },
    )
    expect(result.stderr).toMatch(/^found 0 Kasa devices and 1 Hue bridge\n$/)
    expect(result.stdout).toContain(`genlock hue pair ${hueBridgeAddress}`)
  })
})

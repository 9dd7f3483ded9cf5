import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { BulbEvent } from '../../src/devices/bulb.js'
import { DeviceTimeoutError, DeviceUnreachableError } from '../../src/devices/errors.js'
import { MqttBulb } from '../../src/devices/mqtt/mqtt-bulb.js'
import { tasmotaProtocol } from '../../src/devices/mqtt/tasmota.js'
import { zigbee2mqttProtocol } from '../../src/devices/mqtt/zigbee2mqtt.js'
import { startMosquitto } from '../support/services.js'
import { Zigbee2MqttLights, type SimulatedZigbeeLight } from '../../src/simulators/zigbee2mqtt-lights.js'
import { MqttTestLink } from './support/mqtt-test-link.js'

const colorCaps = { dimmable: true, color: true, colorTemp: { min: 2000, max: 6500 } }

describe('MqttBulb against a real mosquitto', () => {
  let broker: Awaited<ReturnType<typeof startMosquitto>>
  let daemonLink: MqttTestLink
  let peerLink: MqttTestLink
  let topic: string
  let lights: Zigbee2MqttLights
  let light: SimulatedZigbeeLight
  let count = 0

  beforeAll(async () => {
    broker = await startMosquitto()
  })
  afterAll(async () => {
    await broker.dispose()
  })
  beforeEach(async () => {
    daemonLink = await MqttTestLink.connect(broker.url)
    peerLink = await MqttTestLink.connect(broker.url)
    lights = await Zigbee2MqttLights.start({ url: broker.url, names: [`bath_bulb_${++count}`] })
    light = lights.lights[0]!
    topic = light.topic
  })
  afterEach(async () => {
    await lights.stop()
    await daemonLink.end()
    await peerLink.end()
  })

  /** The `/set` bodies the light received, whatever it did with them. */
  const received = () => light.requests.map((request) => request.command)

  const warnings: { object: object; message?: string }[] = []
  const logger = {
    debug() {},
    info() {},
    error() {},
    warn: (object: object, message?: string) => warnings.push({ object, message }),
  }

  async function startedBulb(
    options: { timeoutMs?: number; retries?: number; colorFormat?: 'xy' | 'rgb'; confirm?: boolean } = {},
  ) {
    const bulb = new MqttBulb({
      confirm: options.confirm ?? true,
      logger,
      id: 'bath_bulb',
      capabilities: colorCaps,
      link: daemonLink,
      topic,
      protocol: zigbee2mqttProtocol(topic, options.colorFormat),
      queue: { timeoutMs: options.timeoutMs ?? 2000, retries: options.retries ?? 2, backoffMs: 0 },
    })
    const followed = new Promise<void>((resolve) =>
      bulb.subscribe((event) => event.type === 'state' && event.state.reachable && resolve()),
    )
    await bulb.start()
    await followed // the retained state arrived
    return bulb
  }

  it('follows the retained state, then sends Zigbee2MQTT JSON to <topic>/set and waits for the echo', async () => {
    const bulb = await startedBulb()
    expect(bulb.state).toEqual({ on: false, brightness: 100, colorTemp: 2703, reachable: true })
    const state = await bulb.setState({ on: true, brightness: 50, color: 'red', transition: 1500 })
    expect(received()).toEqual([{ state: 'ON', brightness: 127, color: { x: 0.64, y: 0.33 }, transition: 1.5 }])
    expect(state).toMatchObject({ on: true, brightness: 50, reachable: true })
    await bulb.setState({ colorTemp: 2700 })
    expect(received()[1]).toEqual({ state: 'ON', color_temp: 370 })
    expect(bulb.state.colorTemp).toBe(2703)
    await bulb.stop()
  })

  it('sends {r,g,b} when the light wants rgb', async () => {
    const bulb = await startedBulb({ colorFormat: 'rgb' })
    await bulb.setColor('#ff8800')
    expect(received()).toEqual([{ state: 'ON', color: { r: 255, g: 136, b: 0 } }])
  })

  it('retries when the light drops a command, and times out (naming the topic) when it never answers', async () => {
    const bulb = await startedBulb({ timeoutMs: 150, retries: 1 })
    light.dropNext()
    await bulb.setPower(true)
    expect(received()).toEqual([{ state: 'ON' }, { state: 'ON' }])
    light.hang(true)
    await expect(bulb.setPower(false)).rejects.toThrow(new DeviceTimeoutError(`bath_bulb (mqtt ${topic})`, 150, 2))
  })

  it('reports availability from <topic>/availability and refuses commands while offline', async () => {
    const bulb = await startedBulb()
    const events: BulbEvent[] = []
    const offline = new Promise<void>((resolve) =>
      bulb.subscribe((event) => {
        events.push(event)
        if (event.type === 'availability' && !event.reachable) resolve()
      }),
    )
    await light.setAvailability(false)
    await offline
    await expect(bulb.setPower(true)).rejects.toThrow(DeviceUnreachableError)
    expect(received()).toEqual([])
    const online = new Promise<void>((resolve) =>
      bulb.subscribe((event) => event.type === 'availability' && event.reachable && resolve()),
    )
    await light.setAvailability(true)
    await online
    await expect(bulb.setPower(true)).resolves.toMatchObject({ on: true })
  })

  it('ignores unreadable state payloads and keeps going', async () => {
    const bulb = await startedBulb()
    const turnedOn = new Promise<void>((resolve) =>
      bulb.subscribe((event) => event.type === 'state' && event.state.on && resolve()),
    )
    await peerLink.publish(topic, 'not json', { qos: 1 })
    await peerLink.publish(topic, JSON.stringify({ state: 'ON', brightness: 127 }), { qos: 1 })
    await turnedOn
    expect(warnings).toContainEqual({
      object: { device: 'bath_bulb', topic, payload: 'not json' },
      message: 'unreadable light state ignored',
    })
    expect(bulb.state).toMatchObject({ on: true, brightness: 50 })
  })

  it('asks for the state with <topic>/get', async () => {
    const bulb = await startedBulb()
    await light.changeFromApp({ state: 'ON', brightness: 254, color_mode: 'xy', color: { x: 0.64, y: 0.33 } })
    const asked = new Promise<void>((resolve) => peerLink.subscribe(`${topic}/get`, () => resolve()))
    await peerLink.ready()
    await expect(bulb.getStatus()).resolves.toEqual({
      on: true,
      brightness: 100,
      color: { r: 255, g: 0, b: 0 },
      reachable: true,
    })
    await asked
  })

  it('without confirm, a command is done once published and the state is what was asked', async () => {
    const bulb = await startedBulb({ confirm: false })
    light.hang(true)
    const command = new Promise<Record<string, unknown>>((resolve) =>
      light.onCommand(({ command }) => resolve(command)),
    )
    await expect(bulb.setState({ on: true, brightness: 20 })).resolves.toMatchObject({ on: true, brightness: 20 })
    expect(await command).toEqual({ state: 'ON', brightness: 51 })
  })

  it('drops an out-of-range reported colour temperature with a warning, keeping the last good one', async () => {
    const bulb = await startedBulb()
    const changed = new Promise<void>((resolve) =>
      bulb.subscribe((event) => event.type === 'state' && event.state.on && resolve()),
    )
    await light.changeFromApp({ state: 'ON', color_mode: 'color_temp', color_temp: -100 })
    await changed
    expect(bulb.state).toEqual({ on: true, brightness: 100, colorTemp: 2703, reachable: true })
    expect(warnings.map((warning) => warning.message)).toContain(
      `bath_bulb (mqtt ${topic}): reported colorTemp -10000 is out of range (1000–40000 K); kept the previous value`,
    )
  })

  it('a change from a remote is an outside change; the echo of a command, also without confirm, is not', async () => {
    const bulb = await startedBulb({ confirm: false })
    const events: BulbEvent[] = []
    bulb.subscribe((event) => events.push(event))
    // Without confirm, three commands go out at once and their echoes come back later.
    const echoed = new Promise<void>((resolve) => light.onCommand(() => light.requests.length === 3 && resolve()))
    await Promise.all([
      bulb.setState({ on: true, brightness: 20, color: 'blue' }),
      bulb.setState({ brightness: 40 }),
      bulb.setState({ colorTemp: 2700 }),
    ])
    await echoed
    await bulb.getStatus()
    expect(events.filter((event) => event.type === 'state' && event.outside)).toEqual([])
    const outside = new Promise<BulbEvent>((resolve) =>
      bulb.subscribe((event) => event.type === 'state' && event.outside && resolve(event)),
    )
    await light.changeFromApp({ brightness: 254 })
    expect(await outside).toEqual({
      type: 'state',
      state: { on: true, brightness: 100, colorTemp: 2703, reachable: true },
      outside: true,
    })
  })

  /** A Tasmota light's bulb; the test plays the device on `peerLink`. */
  function tasmotaBulb(name: string): MqttBulb {
    return new MqttBulb({
      id: 'desk',
      capabilities: colorCaps,
      link: daemonLink,
      topic: name,
      protocol: tasmotaProtocol(name),
      queue: { backoffMs: 0 },
    })
  }

  it('speaks Tasmota with the tasmota preset', async () => {
    const name = `tasmota_${count}`
    const bulb = tasmotaBulb(name)
    await bulb.start()
    await daemonLink.ready()
    const command = peerLink.next(`cmnd/${name}/Backlog`)
    const done = bulb.setState({ on: true, brightness: 40, color: 'blue', transition: 1000 })
    expect((await command).payload.toString()).toBe('Fade 1; Speed 2; Color 0,0,255; Dimmer 40; Power ON')
    await peerLink.publish(`stat/${name}/RESULT`, JSON.stringify({ POWER: 'ON', Dimmer: 40, Color: '0000FF' }), {
      qos: 1,
    })
    expect(await done).toEqual({ on: true, brightness: 40, color: { r: 0, g: 0, b: 255 }, reachable: true })
  })

  it("a command's echo (and Tasmota's periodic STATE repeating it) is not an outside change; the web console's is", async () => {
    const name = `tasmota_outside_${count}`
    const bulb = tasmotaBulb(name)
    const events: BulbEvent[] = []
    bulb.subscribe((event) => events.push(event))
    await bulb.start()
    await daemonLink.ready()
    // The device plays Tasmota: it applies each Backlog and answers with stat/<name>/RESULT.
    peerLink.subscribe(`cmnd/${name}/Backlog`, () => {
      void peerLink.publish(`stat/${name}/RESULT`, JSON.stringify({ POWER: 'ON', Dimmer: 40, CT: 370 }), { qos: 1 })
    })
    await peerLink.ready()
    await bulb.setState({ on: true, brightness: 40, colorTemp: 2700 })
    const periodic = new Promise<void>((resolve) => bulb.subscribe(() => resolve()))
    await peerLink.publish(`tele/${name}/STATE`, JSON.stringify({ POWER: 'ON', Dimmer: 40, CT: 371 }), { qos: 1 })
    await peerLink.publish(`stat/${name}/RESULT`, JSON.stringify({ POWER: 'OFF', Dimmer: 40, CT: 371 }), { qos: 1 })
    await periodic
    expect(events.filter((event) => event.type === 'state' && event.outside)).toEqual([
      { type: 'state', state: { on: false, brightness: 40, colorTemp: 2695, reachable: true }, outside: true },
    ])
    await bulb.stop()
  })
})

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { MqttToolClient } from '../../src/mqtt/tool-client.js'
import { DaemonProcess } from '../daemon/daemon-process.js'
import { freePort, startMosquitto } from '../support/services.js'
import { PARTY, writeSetup } from './setup-files.js'
import { genlock, GenlockProcess } from './support/genlock-process.js'

describe('genlock sim mqtt: Zigbee2MQTT-style lights on a real mosquitto', () => {
  let mosquitto: Awaited<ReturnType<typeof startMosquitto>>
  let lights: GenlockProcess

  beforeAll(async () => {
    mosquitto = await startMosquitto()
    lights = GenlockProcess.start('sim', 'mqtt', '--broker', mosquitto.url, '--count', '2', '--base-topic', 'z2m')
    await lights.waitFor(/ready; Ctrl-C stops/)
  })

  afterAll(async () => {
    await lights?.stop()
    await mosquitto?.dispose()
  })

  it('announces its lights, retained, with device files for them', async () => {
    expect(lights.stdout).toContain(`Zigbee2MQTT-style lights on ${mosquitto.url}: z2m/light_1, z2m/light_2`)
    expect(lights.stdout).toContain('id: light_1\nadapter: mqtt\ntopic: z2m/light_1')
    const client = await MqttToolClient.connect({ url: mosquitto.url })
    const seen = new Map<string, string>()
    await client.subscribeAcked('z2m/#', (message) => seen.set(message.topic, message.payload.toString()))
    await client.flush()
    await client.close()
    expect(JSON.parse(seen.get('z2m/light_1')!)).toMatchObject({ state: 'OFF', brightness: 254 })
    expect(JSON.parse(seen.get('z2m/light_2/availability')!)).toEqual({ state: 'online' })
    expect(JSON.parse(seen.get('z2m/bridge/state')!)).toEqual({ state: 'online' })
  })

  it('the daemon drives a simulated light through the real MQTT adapter when an automation is triggered', async () => {
    const { configFile } = writeSetup({
      config: `mqtt: { url: ${mosquitto.url}, base_topic: simmqtt }\nlog: { level: warn }\n`,
      devices: { 'bath_bulb.yaml': 'id: bath_bulb\nadapter: mqtt\ntopic: z2m/light_1\n' },
      automations: { 'party.yaml': PARTY },
    })
    const watcher = await MqttToolClient.connect({ url: mosquitto.url })
    const published = new Promise<void>((resolve) => watcher.subscribe('simmqtt/automation/party', () => resolve()))
    const daemon = DaemonProcess.start(configFile)
    try {
      await published
      const mark = lights.stdout.length
      const trigger = await genlock('trigger', 'party', '--config', configFile)
      expect(trigger.code).toBe(0)
      const [, body] = await lights.waitFor(/light_1: (\{.*"brightness".*\})/, mark)
      // The party's first step, `set: { color: red, brightness: 80 }`, in Zigbee2MQTT's terms.
      expect(JSON.parse(body!)).toMatchObject({
        brightness: 203,
        color: { x: expect.any(Number), y: expect.any(Number) },
      })
    } finally {
      await daemon.stop()
      await watcher.close()
    }
  })

  it('an unreachable broker is one clear line and exit 2', async () => {
    const port = await freePort()
    const result = await genlock('sim', 'mqtt', '--broker', `mqtt://127.0.0.1:${port}`)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      new RegExp(`^genlock sim: cannot reach the MQTT broker mqtt://127\\.0\\.0\\.1:${port}: .+\\n$`),
    )
  })
})

describe('genlock sim mqtt across broker restarts', () => {
  let mosquitto: Awaited<ReturnType<typeof startMosquitto>>
  const started: GenlockProcess[] = []

  /** `genlock sim mqtt` with one light on the suite's broker. */
  function simMqtt(): GenlockProcess {
    const lights = GenlockProcess.start('sim', 'mqtt', '--broker', mosquitto.url, '--count', '1')
    started.push(lights)
    return lights
  }

  beforeAll(async () => {
    mosquitto = await startMosquitto()
  })

  // A test that failed while a simulator ignored SIGTERM must not leave it running.
  afterEach(async () => {
    for (const lights of started.splice(0)) if (lights.running) await lights.stop('SIGKILL')
  })

  afterAll(async () => {
    await mosquitto?.dispose()
  })

  /** The next message on `topic` (retained ones included) from a fresh client. */
  async function nextMessage(topic: string, publish?: { topic: string; payload: string }): Promise<string> {
    const client = await MqttToolClient.connect({ url: mosquitto.url })
    try {
      const message = new Promise<string>((resolve) =>
        client.subscribe(topic, (received) => resolve(received.payload.toString())),
      )
      await client.flush()
      if (publish) await client.publish(publish.topic, publish.payload, { qos: 1 })
      return await message
    } finally {
      await client.close()
    }
  }

  it('comes back after the broker restarts: lights announced again (retained) and answering commands', async () => {
    const lights = simMqtt()
    try {
      await lights.waitFor(/ready; Ctrl-C stops/)
      // A broker without persistence forgets every retained message and subscription.
      await mosquitto.restart()
      const reconnected = lights.stdout.length
      await lights.waitFor(/reconnected to /, reconnected)
      expect(JSON.parse(await nextMessage('zigbee2mqtt/light_1/availability'))).toEqual({ state: 'online' })
      expect(JSON.parse(await nextMessage('zigbee2mqtt/bridge/state'))).toEqual({ state: 'online' })
      // Subscribed again: a command is applied and its new state published.
      const client = await MqttToolClient.connect({ url: mosquitto.url })
      try {
        const on = new Promise<Record<string, unknown>>((resolve) =>
          client.subscribe('zigbee2mqtt/light_1', (message) => {
            const state = JSON.parse(message.payload.toString()) as Record<string, unknown>
            if (state.state === 'ON') resolve(state)
          }),
        )
        await client.flush()
        await client.publish('zigbee2mqtt/light_1/set', JSON.stringify({ state: 'ON', brightness: 100 }), { qos: 1 })
        expect(await on).toMatchObject({ state: 'ON', brightness: 100 })
      } finally {
        await client.close()
      }
    } finally {
      await lights.stop()
    }
  })

  it('stops on SIGTERM even while the broker is down', async () => {
    const lights = simMqtt()
    await lights.waitFor(/ready; Ctrl-C stops/)
    await mosquitto.stop()
    try {
      lights.child.kill('SIGTERM')
      expect(await lights.exited).toEqual({ code: 0, signal: null })
      // It stopped by itself, without waiting for the broker, rather than by its 5 s deadline.
      expect(lights.stderr).not.toContain('exiting anyway')
    } finally {
      await mosquitto.start()
    }
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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

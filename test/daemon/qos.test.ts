/**
 * The QoS of every kind of message genlock sends, as chosen for what each must guarantee (see the comments at
 * STATE_QOS, CONFIG_QOS, SUBSCRIPTION_QOS and in MqttBulb): an observer subscribed at QoS 1 receives each at the
 * QoS it was published with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type MqttClient } from 'mqtt'
import { startMosquitto, type ServiceProcess } from '../support/services.js'
import { PARTY, simBulb } from '../cli/setup-files.js'
import { startTestDaemon, type TestDaemon } from './harness.js'

describe('QoS per message', () => {
  let mosquitto: ServiceProcess & { url: string }
  let observer: MqttClient
  let genlock: TestDaemon
  const seen: { topic: string; qos: number; payload: string }[] = []

  beforeAll(async () => {
    mosquitto = await startMosquitto()
    observer = connect(mosquitto.url, { clientId: 'qos-observer' })
    await new Promise<void>((resolve) => observer.once('connect', () => resolve()))
    observer.on('message', (topic, payload, packet) =>
      seen.push({ topic, qos: packet.qos, payload: payload.toString() }),
    )
    await observer.subscribeAsync(['#'], { qos: 1 })
  })
  afterAll(async () => {
    await genlock?.daemon.stop()
    await observer.endAsync()
    await mosquitto.dispose()
  })

  it('sends states, availability and light commands at QoS 0, and discovery configs at QoS 1', async () => {
    genlock = await startTestDaemon(mosquitto.url, {
      devices: {
        'bath_bulb.yaml': simBulb('bath_bulb'),
        // A Zigbee2MQTT light that never answers: only its command is looked at here.
        'lamp.yaml': 'id: lamp\nadapter: mqtt\ntopic: zigbee2mqtt/lamp\nconfirm: false\n',
      },
      automations: {
        'party.yaml': PARTY,
        'lamp.yaml':
          'name: lamp\npriority: 0\ndevices: [lamp]\ntrigger:\n  - mqtt: home/lamp\nsteps:\n  - set: { on: true }\n',
      },
    })
    const base = genlock.baseTopic
    const party = genlock.bulb('bath_bulb').nextCommand()
    await observer.publishAsync('home/party', 'ON', { qos: 1 })
    await observer.publishAsync('home/lamp', 'ON', { qos: 1 })
    await party
    const until = async (match: (m: { topic: string }) => boolean) => {
      while (!seen.some(match)) await new Promise((resolve) => observer.once('message', resolve))
    }
    await until((m) => m.topic === 'zigbee2mqtt/lamp/set')
    await until((m) => m.topic === `${base}/device/bath_bulb/light`)
    const qosOf = (match: (topic: string) => boolean) => [
      ...new Set(seen.filter((m) => match(m.topic)).map((m) => m.qos)),
    ]
    expect(qosOf((t) => t === `${base}/status`)).toEqual([0])
    expect(qosOf((t) => t.startsWith(`${base}/device/`) && !t.endsWith('/light'))).toEqual([0])
    expect(qosOf((t) => t.startsWith(`${base}/automation/`))).toEqual([0])
    expect(qosOf((t) => t.endsWith('/light') || t.endsWith('/light/attributes'))).toEqual([0])
    expect(qosOf((t) => t === 'zigbee2mqtt/lamp/set')).toEqual([0])
    expect(qosOf((t) => t.startsWith('homeassistant/') && t.endsWith('/config'))).toEqual([1])
  })
})

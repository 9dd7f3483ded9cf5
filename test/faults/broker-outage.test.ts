/**
 * Issue 13.8: a short broker outage must not end automations on MQTT bulbs for good. A light unreachable because
 * the broker is away is not a failed command: the command waits for the connection, then the party goes on.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Zigbee2MqttLights } from '../../src/simulators/zigbee2mqtt-lights.js'
import { PARTY } from '../cli/setup-files.js'
import { startTestDaemon, type TestDaemon } from '../daemon/harness.js'
import { Observer } from '../mqtt/observer.js'
import { startMosquitto, type ServiceProcess } from '../support/services.js'

/** Attempt timeout and retries of the light in this test: the whole retry budget is 3 × 500 ms + 300 ms backoff. */
const TIMEOUT_MS = 500
const RETRIES = 2

describe('a short MQTT broker outage', () => {
  let mosquitto: ServiceProcess & { url: string }
  let lights: Zigbee2MqttLights
  let home: Observer
  let party: TestDaemon | undefined

  beforeAll(async () => {
    mosquitto = await startMosquitto()
    lights = await Zigbee2MqttLights.start({ url: mosquitto.url, count: 1 })
    home = await Observer.connect(mosquitto.url, [])
  })
  afterAll(async () => {
    await party?.daemon.stop()
    await lights?.stop()
    await home?.close()
    await mosquitto?.dispose()
  })

  it('does not end a party on a Zigbee2MQTT light: its command waits for the broker, then the party goes on', async () => {
    const received: Record<string, unknown>[] = []
    let waiter: (() => void) | undefined
    lights.onCommand((_name, command) => {
      received.push(command)
      waiter?.()
    })
    const commands = async (count: number) => {
      while (received.length < count) await new Promise<void>((resolve) => (waiter = resolve))
    }
    const devices = {
      'bath_bulb.yaml': `id: bath_bulb\nadapter: mqtt\ntopic: ${lights.topics[0]}\ntimeoutMs: ${TIMEOUT_MS}\nretries: ${RETRIES}\n`,
    }
    const fast = PARTY.replaceAll('wait: 1s', 'wait: 50ms')
    party = await startTestDaemon(mosquitto.url, { devices, automations: { 'party.yaml': fast } })
    const logs = party.logs

    await home.client.publishAsync('home/party', 'ON', { qos: 1 })
    await commands(2)
    const mark = logs.mark
    await mosquitto.stop()
    // The party's next command meets the outage: it waits for the broker rather than failing.
    const first = await Promise.race([
      logs.waitFor((entry) => /broker is away/.test(entry.msg), mark),
      logs.waitFor((entry) => /command failed|failed:/.test(entry.msg), mark),
    ])
    expect(first.msg).toMatch(/bath_bulb .*the MQTT broker is away; the command waits for it/)
    // The fault itself: the broker stays away longer than the command's whole retry budget, which the outage used to
    // use up (then the party failed and never came back).
    await delay(2 * (RETRIES + 1) * TIMEOUT_MS)
    await mosquitto.start()
    const before = received.length
    await commands(before + 3)

    expect(logs.entries.slice(mark).filter((entry) => /command failed|failed:/.test(entry.msg))).toEqual([])
    expect(party.daemon.engine.status()).toEqual([{ name: 'party', state: 'running' }])
  })
})

/**
 * `online` means ready: a client that triggers an automation the instant it sees `<base>/status online` (Home
 * Assistant does, on availability) sees it run — on a fresh broker at start, and after a broker restart that lost
 * every session and subscription (mosquitto without persistence).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { simBulb } from '../cli/setup-files.js'
import { Observer } from '../mqtt/observer.js'
import { startMosquitto, type ServiceProcess } from '../support/services.js'
import { startTestDaemon, type TestDaemon } from './harness.js'

/** One command per trigger, carrying the trigger's payload as brightness. */
const DIM = `name: dim
priority: 0
devices: [bath_bulb]
mode: queued
max: 10
trigger:
  - mqtt: home/dim
steps:
  - set: { brightness: "{{ trigger.payload }}" }
`

describe('online means ready', () => {
  let mosquitto: ServiceProcess & { url: string }
  let ha: Observer
  let genlock: TestDaemon | undefined
  /** The brightness each `online` seen so far was answered with. */
  const answered: number[] = []

  beforeAll(async () => {
    mosquitto = await startMosquitto() // no persistence: fresh at start, and forgets everything on restart
    ha = await Observer.connect(mosquitto.url, ['+/status'])
    // Home Assistant's reflex: the instant genlock says online, send the trigger.
    ha.client.on('message', (topic, payload) => {
      if (!topic.endsWith('/status') || payload.toString() !== 'online') return
      const brightness = 10 * (answered.length + 1)
      answered.push(brightness)
      ha.client.publish('home/dim', String(brightness), { qos: 1 })
    })
  })
  afterAll(async () => {
    await genlock?.daemon.stop()
    await ha?.close()
    await mosquitto?.dispose()
  })

  it('runs the trigger sent the instant online is seen, at start and after the broker restarted', async () => {
    genlock = await startTestDaemon(mosquitto.url, {
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
      automations: { 'dim.yaml': DIM },
    })
    const bulb = genlock.bulb('bath_bulb')
    const [first] = await bulb.waitForCommands(1)
    expect(answered).toEqual([10])
    expect(first).toMatchObject({ origin: { holder: 'dim' }, state: { brightness: 10 } })

    const reconnected = genlock.logs.waitFor((l) => l.msg === 'mqtt connected', genlock.logs.mark)
    await mosquitto.restart()
    expect((await reconnected).sessionPresent).toBe(false)
    const log = await bulb.waitForCommands(2)
    // Whether HA saw `online` live or (resubscribing late) retained, the trigger it sent on it ran.
    expect(answered.length).toBeGreaterThanOrEqual(2)
    expect(log[1]).toMatchObject({ origin: { holder: 'dim' }, state: { brightness: answered[1] } })
  })
})

/**
 * Issue 13.11 (visibility): a Redis outage shows on the broker, as the retained `<base>/locks` state and a Home
 * Assistant connectivity sensor, and clears when Redis is back. Before, only the log said so.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { simBulb } from '../cli/setup-files.js'
import { Observer } from '../mqtt/observer.js'
import { startMosquitto, startRedis } from '../support/services.js'
import { startTestDaemon } from './harness.js'

let mosquitto: Awaited<ReturnType<typeof startMosquitto>>
let redis: Awaited<ReturnType<typeof startRedis>>

beforeAll(async () => {
  ;[mosquitto, redis] = await Promise.all([startMosquitto(), startRedis()])
})
afterAll(async () => {
  await Promise.all([mosquitto?.dispose(), redis?.dispose()])
})

it('publishes the lock backend offline during a Redis outage and online after it, with an HA sensor', async () => {
  const { daemon, baseTopic } = await startTestDaemon(
    mosquitto.url,
    {
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
      automations: {
        'lamp.yaml': 'name: lamp\ndevices: [bath_bulb]\ntrigger: { mqtt: home/lamp }\nsteps: [{ set: { on: true } }]\n',
      },
    },
    `locks: { backend: redis, url: "${redis.url}" }\n`,
  )
  const ha = await Observer.connect(mosquitto.url, [`${baseTopic}/#`, 'homeassistant/binary_sensor/#'])
  try {
    const locks = `${baseTopic}/locks`
    await ha.waitForPayload(locks, (payload) => JSON.parse(payload).state === 'online')
    const sensor = await ha.waitFor(
      (m) => m.topic.startsWith('homeassistant/binary_sensor/') && m.topic.includes('lock_backend'),
    )
    expect(JSON.parse(sensor.payload)).toMatchObject({
      device_class: 'connectivity',
      state_topic: locks,
      payload_on: 'online',
      payload_off: 'offline',
    })
    // The Redis client connects with the first lock it takes.
    const ran = ha.waitForPayload(`${baseTopic}/automation/lamp`, (payload) => payload.includes('"running"'))
    await ha.client.publishAsync('home/lamp', 'ON', { qos: 1 })
    await ran

    let from = ha.mark
    await redis.stop()
    expect(
      JSON.parse((await ha.waitForPayload(locks, (p) => JSON.parse(p).state === 'offline', from)).payload),
    ).toEqual({
      state: 'offline',
      backend: 'redis',
    })
    from = ha.mark
    await redis.start()
    await ha.waitForPayload(locks, (payload) => JSON.parse(payload).state === 'online', from)
  } finally {
    await ha.close()
    await daemon.stop()
  }
}, 60_000)

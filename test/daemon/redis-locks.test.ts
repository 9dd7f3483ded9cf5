import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMosquitto, startRedis, type ServiceProcess } from '../support/services.js'
import { Observer } from '../mqtt/observer.js'
import { ALARM, PARTY, simBulb } from '../cli/setup-files.js'
import { startTestDaemon, type TestDaemon } from './harness.js'

describe('locks: { backend: redis }', () => {
  let mosquitto: ServiceProcess & { url: string }
  let redis: ServiceProcess & { url: string }
  let ha: Observer
  const daemons: TestDaemon[] = []

  beforeAll(async () => {
    ;[mosquitto, redis] = await Promise.all([startMosquitto(), startRedis()])
    ha = await Observer.connect(mosquitto.url)
  })
  afterAll(async () => {
    for (const t of daemons) await t.daemon.stop()
    await ha.close()
    await Promise.all([mosquitto.dispose(), redis.dispose()])
  })

  it('lets an alarm in one daemon preempt a party in another through the shared Redis lock', async () => {
    const locks = `locks: { backend: redis, url: "${redis.url}", key_prefix: shared }\n`
    const devices = { 'bath_bulb.yaml': simBulb('bath_bulb') }
    const partyDaemon = await startTestDaemon(mosquitto.url, { devices, automations: { 'party.yaml': PARTY } }, locks)
    daemons.push(partyDaemon)
    const alarmDaemon = await startTestDaemon(mosquitto.url, { devices, automations: { 'alarm.yaml': ALARM } }, locks)
    daemons.push(alarmDaemon)

    const from = ha.mark
    const partyStarts = partyDaemon.bulb('bath_bulb').nextCommand()
    await ha.publish('home/party', 'ON')
    await partyStarts
    const alarmStarts = alarmDaemon.bulb('bath_bulb').nextCommand()
    await ha.publish('home/alarm', 'ON')
    expect((await alarmStarts).origin?.holder).toBe('alarm')
    const suspended = await ha.waitFor(
      (m) => m.topic === `${partyDaemon.baseTopic}/automation/party` && JSON.parse(m.payload).state === 'suspended',
      from,
    )
    expect(suspended.retain).toBe(false)
    await ha.publish('home/alarm', 'OFF')
    await ha.waitFor(
      (m) => m.topic === `${partyDaemon.baseTopic}/automation/party` && JSON.parse(m.payload).state === 'running',
      ha.seen.indexOf(suspended) + 1,
    )
  })
})

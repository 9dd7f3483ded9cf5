/**
 * A broker restarted without persistence forgets every retained message, discovery configs included; genlock
 * republishes them when its connection comes back, so Home Assistant still finds its entities.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { simBulb } from '../cli/setup-files.js'
import { Observer, type Seen } from '../mqtt/observer.js'
import { startMosquitto, type ServiceProcess } from '../support/services.js'
import { startHaDaemon, type HaTestDaemon } from './support.js'

describe('Home Assistant discovery across a broker restart', () => {
  let mosquitto: ServiceProcess & { url: string }
  let genlock: HaTestDaemon

  beforeAll(async () => {
    mosquitto = await startMosquitto({ persistence: false })
    genlock = await startHaDaemon(mosquitto.url, {
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
      automations: {},
    })
  })
  afterAll(async () => {
    await genlock?.daemon.stop()
    await mosquitto?.dispose()
  })

  it('republishes the retained configs and light state after the broker lost them', async () => {
    const ours = (m: Seen) => m.payload.includes(`"${genlock.baseTopic}/status"`) && m.topic.endsWith('/config')
    const before = await Observer.connect(mosquitto.url, ['homeassistant/#'])
    while (before.seen.filter(ours).length < 2) await before.waitFor(ours, before.mark)
    const topics = before.seen.filter(ours).map((m) => m.topic)
    await before.close()

    await mosquitto.restart()
    // Home Assistant, starting after the restart, subscribes and must get the configs as retained messages.
    const after = await Observer.connect(mosquitto.url, ['homeassistant/#', `${genlock.baseTopic}/device/+/light`])
    const retained = (m: Seen) => m.retain && (ours(m) || m.topic.endsWith('/light'))
    const lightState = `${genlock.baseTopic}/device/bath_bulb/light`
    // The configs arrive either live (genlock republished after we subscribed) or retained (before): wait for both.
    while (after.seen.filter(ours).length < topics.length) await after.waitFor(ours, after.mark)
    await after.waitFor((m) => m.topic === lightState)
    await after.close()
    const late = await Observer.connect(mosquitto.url, ['homeassistant/#', `${genlock.baseTopic}/device/+/light`])
    try {
      while (late.seen.filter(retained).length < topics.length + 1) await late.waitFor(retained, late.mark)
      expect(
        late.seen
          .filter(retained)
          .map((m) => m.topic)
          .sort(),
      ).toEqual([...topics, lightState].sort())
    } finally {
      await late.close()
    }
  })
})

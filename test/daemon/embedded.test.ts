import { afterAll, describe, expect, it } from 'vitest'
import { Observer } from '../mqtt/observer.js'
import { freePort } from '../support/services.js'
import { PARTY, simBulb, writeSetup } from '../cli/setup-files.js'
import { Daemon } from '../../src/daemon/index.js'
import { createLogger } from '../../src/config/logger.js'

describe('mqtt: { embedded: true }', () => {
  let daemon: Daemon | undefined
  afterAll(async () => {
    await daemon?.stop()
  })

  it('runs with its own broker on 127.0.0.1: triggers in, state topics out', async () => {
    const port = await freePort()
    const { configFile } = writeSetup({
      config: `mqtt: { embedded: true, port: ${port} }\n`,
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
      automations: { 'party.yaml': PARTY },
    })
    daemon = await Daemon.start(configFile, { logger: createLogger({ level: 'silent', pretty: false }) })
    expect(daemon.broker?.url).toBe(`mqtt://127.0.0.1:${port}`)
    const ha = await Observer.connect(`mqtt://127.0.0.1:${port}`, ['genlock/#'])
    await ha.waitForPayload('genlock/status', 'online')
    const from = ha.mark
    await ha.publish('home/party', 'ON')
    // The holder shows the moment the party has the lock; the state once its first step has reached the bulb.
    const state = await ha.waitFor(
      (m) =>
        m.topic === 'genlock/device/bath_bulb' &&
        JSON.parse(m.payload).holder === 'party' &&
        JSON.parse(m.payload).state.brightness === 80,
      from,
    )
    expect(JSON.parse(state.payload).state).toMatchObject({ brightness: 80, color: { r: 255, g: 0, b: 0 } })
    await ha.close()
  })
})

/**
 * Issue 13.12 (retained commands), through the built package: a retained Home Assistant light command and a
 * retained automation command found on the broker at start are both ignored with a warning, not carried out.
 * Before, the light command was replayed at every start (the automation command was already ignored).
 */
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { simBulb, writeSetup } from '../cli/setup-files.js'
import { Observer } from '../mqtt/observer.js'
import { builtCli, startBuiltDaemon } from '../support/built-genlock.js'
import { startMosquitto } from '../support/services.js'

beforeAll(() => builtCli(), 180_000)

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

it('ignores retained light and automation commands at start, and carries out live ones', async () => {
  const broker = await startMosquitto()
  const { dir, configFile } = writeSetup({
    config: `mqtt: { url: "${broker.url}" }\nlog: { level: info, pretty: false }\n`,
    devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
    automations: {
      'lamp.yaml': 'name: lamp\ndevices: [bath_bulb]\nsteps:\n  - set: { color: blue }\n',
    },
  })
  dirs.push(dir)
  const client = await Observer.connect(broker.url, [])
  await client.client.publishAsync('genlock/device/bath_bulb/light/set', '{"state":"ON","brightness":100}', {
    retain: true,
    qos: 1,
  })
  await client.client.publishAsync('genlock/automation/lamp/set', 'ON', { retain: true, qos: 1 })
  const daemon = await startBuiltDaemon(configFile)
  try {
    await daemon.ready()
    const ignored = (topic: string) =>
      daemon.waitForLog((entry) => entry.msg.startsWith('retained command ignored') && entry.topic === topic)
    await ignored('genlock/device/bath_bulb/light/set')
    await ignored('genlock/automation/lamp/set')

    // Live commands still work, and are the only ones carried out.
    await client.client.publishAsync('genlock/device/bath_bulb/light/set', '{"state":"ON","brightness":50}', {
      qos: 1,
    })
    await daemon.waitForLog((entry) => entry.msg === 'manual light command from Home Assistant')
    await client.client.publishAsync('genlock/automation/lamp/set', 'ON', { qos: 1 })
    await daemon.waitForLog((entry) => String(entry.msg).startsWith('triggered by command ON'))
    expect(daemon.logs.filter((entry) => entry.msg === 'manual light command from Home Assistant')).toHaveLength(1)
    expect(daemon.logs.filter((entry) => String(entry.msg).startsWith('triggered by'))).toHaveLength(1)
  } finally {
    expect((await daemon.stop()).code).toBe(0)
    await client.close()
    await broker.dispose()
  }
}, 60_000)

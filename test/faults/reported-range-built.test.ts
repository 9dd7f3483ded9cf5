/**
 * Issue 13.9, through the built package: a Zigbee2MQTT light reporting `color_temp: -100` (mireds, so -10000 K)
 * is warned about and the value dropped; it reaches neither the device's state topic nor a later restore. This
 * held in main already (QueuedBulb checks every report with checkReportedState); the test keeps it so.
 */
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { writeSetup } from '../cli/setup-files.js'
import { Observer } from '../mqtt/observer.js'
import { builtCli, spawnBuilt, startBuiltDaemon } from '../support/built-genlock.js'
import { startMosquitto } from '../support/services.js'

beforeAll(() => builtCli(), 180_000)

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const FLASH = `name: flash
priority: 200
devices: [bath_bulb]
restore: true
trigger:
  - mqtt: home/flash
steps:
  - set: { color: red, brightness: 50 }
`

it('drops an out-of-range reported colour temperature with a warning, and the restore after a run works', async () => {
  const broker = await startMosquitto()
  const lights = await spawnBuilt(['sim', 'mqtt', '--broker', broker.url, '--count', '1', '--base-topic', 'z2m'])
  const { dir, configFile } = writeSetup({
    config: `mqtt: { url: "${broker.url}" }\nlog: { level: info, pretty: false }\n`,
    // The probe's report is a change genlock did not command: held as a person's change, the flash's restore would
    // (rightly) give way to it. This test is about the range check, so the bulb ignores outside changes.
    devices: { 'bath_bulb.yaml': 'id: bath_bulb\nadapter: mqtt\ntopic: z2m/light_1\noutside_changes: ignore\n' },
    automations: { 'flash.yaml': FLASH },
  })
  dirs.push(dir)
  let daemon: Awaited<ReturnType<typeof startBuiltDaemon>> | undefined
  let observer: Observer | undefined
  try {
    await lights.waitForLog((entry) => entry.msg.includes('ready; Ctrl-C stops'))
    daemon = await startBuiltDaemon(configFile)
    await daemon.ready()
    observer = await Observer.connect(broker.url, ['genlock/device/bath_bulb'])
    const mark = daemon.mark
    const from = observer.mark
    // What the probe sent: the light "reports" an impossible colour temperature.
    await observer.client.publishAsync(
      'z2m/light_1',
      '{"state":"ON","brightness":254,"color_mode":"color_temp","color_temp":-100}',
      { qos: 1 },
    )
    const warning = await daemon.waitForLog(
      (entry) => String(entry.msg).includes('reported colorTemp -10000 is out of range'),
      mark,
    )
    expect(warning.level).toBe(40)
    const state = await observer.waitFor((m) => m.payload.includes('"on":true'), from)
    expect(state.payload).not.toContain('-10000')

    await observer.client.publishAsync('home/flash', 'ON', { qos: 1 })
    await daemon.waitForLog((entry) => entry.msg === 'restored bath_bulb', mark)
    expect(daemon.logs.slice(mark).filter((entry) => String(entry.msg).startsWith('could not restore'))).toEqual([])
  } finally {
    await observer?.close()
    if (daemon) expect((await daemon.stop()).code).toBe(0)
    await lights.stop()
    await broker.dispose()
  }
}, 60_000)

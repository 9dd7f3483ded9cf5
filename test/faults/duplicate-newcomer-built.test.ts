/**
 * Issue 13.7, through the built package: a file added while genlock runs, with the id of a running device or the
 * name of a running automation, is the one left out and named; what runs keeps running. Before the fix the
 * newcomer (aaa.yaml sorts first) replaced the running bulb and automation, and the error blamed the originals.
 */
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { writeSetup } from '../cli/setup-files.js'
import { Observer } from '../mqtt/observer.js'
import type { LogEntry } from '../daemon/daemon-process.js'
import { builtCli, startBuiltDaemon } from '../support/built-genlock.js'
import { freePort } from '../support/services.js'

beforeAll(() => builtCli(), 180_000)

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const lamp = (color: string) =>
  `name: lamp\ndevices: [bath_bulb]\ntrigger:\n  - mqtt: home/lamp\nsteps:\n  - set: { color: ${color}, brightness: 60 }\n`

const problemIn = (file: string) => (entry: LogEntry) =>
  entry.msg === 'config problem' && String(entry.problem).startsWith(file)

it('keeps the running device and automation, and names the newcomer’s file', async () => {
  const port = await freePort()
  const { dir, configFile } = writeSetup({
    config: `mqtt: { embedded: true, port: ${port} }\nlog: { level: info, pretty: false }\n`,
    devices: { 'bath_bulb.yaml': 'id: bath_bulb\nname: Bath\nadapter: sim\n' },
    automations: { 'lamp.yaml': lamp('red') },
  })
  dirs.push(dir)
  const daemon = await startBuiltDaemon(configFile)
  let observer: Observer | undefined
  try {
    await daemon.ready()
    observer = await Observer.connect(`mqtt://127.0.0.1:${port}`, ['genlock/device/bath_bulb'])
    const mark = daemon.mark
    writeFileSync(join(dir, 'devices', 'aaa.yaml'), 'id: bath_bulb\nname: Intruder\nadapter: sim\nfailureRate: 1\n')
    writeFileSync(join(dir, 'automations', 'aaa.yaml'), lamp('green'))
    const device = await daemon.waitForLog(problemIn(join(dir, 'devices/aaa.yaml')), mark)
    const automation = await daemon.waitForLog(problemIn(join(dir, 'automations/aaa.yaml')), mark)
    expect(device.problem).toContain(`duplicate id 'bath_bulb' (also used in ${join(dir, 'devices/bath_bulb.yaml')}`)
    expect(automation.problem).toContain(
      `automation name 'lamp' is already used by ${join(dir, 'automations/lamp.yaml')}`,
    )
    const blamed = daemon.logs
      .slice(mark)
      .filter(
        (entry) =>
          problemIn(join(dir, 'devices/bath_bulb.yaml'))(entry) || problemIn(join(dir, 'automations/lamp.yaml'))(entry),
      )
    expect(blamed).toEqual([])

    const from = observer.mark
    await observer.client.publishAsync('home/lamp', 'ON', { qos: 1 })
    const seen = await observer.waitFor(
      (m) => m.payload.includes('"holder":"lamp"') && m.payload.includes('"on":true'),
      from,
    )
    const body = JSON.parse(seen.payload) as { name: string; state: { color?: { r: number; g: number; b: number } } }
    expect(body.name).toBe('Bath')
    expect(body.state.color).toMatchObject({ r: 255, g: 0, b: 0 })
  } finally {
    await observer?.close()
    expect((await daemon.stop()).code).toBe(0)
  }
}, 60_000)

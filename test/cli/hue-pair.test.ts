import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { createBulb, type DeviceConfig } from '../../src/devices/index.js'
import { deviceSchema } from '../../src/devices/device-schema.js'
import { freePort } from '../support/services.js'
import { genlock, GenlockProcess } from './support/genlock-process.js'

describe('genlock sim hue and genlock hue pair', () => {
  let bridge: GenlockProcess
  let address: string
  let caFile: string

  beforeAll(async () => {
    bridge = GenlockProcess.start('sim', 'hue', '--port', '0', '--count', '2')
    const [, port] = await bridge.waitFor(/Hue bridge simulator on https:\/\/127\.0\.0\.1:(\d+) /)
    ;[, caFile] = (await bridge.waitFor(/its CA: +(\S+)\n/)) as unknown as [string, string]
    await bridge.waitFor(/ready; Ctrl-C stops/)
    address = `127.0.0.1:${port}`
  })

  afterAll(async () => {
    await bridge?.stop()
    // The simulator removes the CA file it wrote.
    expect(existsSync(caFile)).toBe(false)
  })

  it('refuses a bridge whose certificate the Hue root CA did not sign (the simulator, without --ca)', async () => {
    const result = await genlock('hue', 'pair', address, '--timeout', '1')
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      new RegExp(
        `^genlock hue pair: cannot reach the Hue bridge at ${address}: .*unable to verify the first certificate`,
      ),
    )
  })

  it('before the link button is pressed, pairing fails with one clear line and exit 3', async () => {
    const mark = bridge.stdout.length
    const result = await genlock('hue', 'pair', address, '--ca', caFile, '--timeout', '1')
    expect(result.code).toBe(3)
    expect(result.stderr).toBe(
      `genlock hue pair: the link button on ${address} was not pressed within 1 s: press it, then run genlock hue pair again\n`,
    )
    expect(result.stdout).toContain(`Press the link button on the Hue bridge at ${address} (waiting 1 s)`)
    // The bridge really was asked, and really said no.
    await bridge.waitFor(/refused genlock#[^:]+: link button not pressed/, mark)
  })

  it('after the button press, prints one key and a device file per light, which drive the lights over v2 and v1', async () => {
    const mark = bridge.stdout.length
    const pair = GenlockProcess.start('hue', 'pair', address, '--ca', caFile, '--timeout', '20')
    try {
      await pair.waitFor(/Press the link button/)
      // The pairing is waiting on the bridge (it was refused once) before anyone presses the button.
      await bridge.waitFor(/refused genlock#/, mark)
      bridge.type('\n')
      await bridge.waitFor(/link button pressed: pairing is open for 30 s/, mark)
      await bridge.waitFor(/paired: genlock#/, mark)
      expect((await pair.exited).code).toBe(0)
    } finally {
      await pair.stop()
    }
    const [, key] = /export HUE_USERNAME=(\S+)/.exec(pair.stdout)!
    expect(key).toMatch(/^[\w-]{20,}$/)
    expect(pair.stdout).toMatch(/export HUE_CLIENTKEY=[0-9A-F]{32}/)
    expect(pair.stdout).toContain('Device files, one per light (read with CLIP v2):')
    const files = pair.stdout
      .split(/\n\n+/)
      .filter((chunk) => chunk.startsWith('# devices/'))
      .map((chunk) => parse(chunk) as Record<string, unknown>)
    expect(files).toEqual([
      {
        id: 'hue_color_lamp_1',
        name: 'Hue color lamp 1',
        adapter: 'hue',
        host: '127.0.0.1',
        port: Number(address.split(':')[1]),
        username: '${HUE_USERNAME}',
        light: 1,
        ca: caFile,
        gamut: 'C',
        capabilities: { dimmable: true, color: true, colorTemp: { min: 2000, max: 6500 } },
      },
      {
        id: 'hue_ambiance_lamp_2',
        name: 'Hue ambiance lamp 2',
        adapter: 'hue',
        host: '127.0.0.1',
        port: Number(address.split(':')[1]),
        username: '${HUE_USERNAME}',
        light: 2,
        ca: caFile,
        capabilities: { dimmable: true, color: false, colorTemp: { min: 2200, max: 6500 } },
      },
    ])
    // The secret is not in the simulator's console.
    expect(bridge.stdout).not.toContain(key!)

    // The real Hue adapter, with the printed file and the new key, drives the simulated bridge over CLIP v2 …
    const config = deviceSchema.parse({ ...files[0], username: key, timeoutMs: 2000, retries: 0 }) as DeviceConfig
    const bulb = createBulb(config)
    await bulb.start()
    let lightMark = bridge.stdout.length
    await bulb.setState({ on: true, brightness: 50 })
    const [, state] = await bridge.waitFor(/light 1 \(v2\): (\{.*\})/, lightMark)
    expect(JSON.parse(state!)).toMatchObject({ on: true, brightness: 50 })
    expect(await bulb.getStatus()).toMatchObject({ on: true, brightness: 50 })
    // A change typed into the simulator's console, as the Hue app would make it, reaches the running adapter.
    await bridge.waitFor(/event streams open: 1/, mark)
    const fromApp = new Promise<void>((resolve) =>
      bulb.subscribe((event) => event.type === 'state' && event.state.brightness === 33 && resolve()),
    )
    bridge.type('1 33\n')
    await fromApp
    await bulb.stop()

    // … and the same key works for CLIP v1.
    const { ca: _ca, ...plain } = files[0]!
    const v1 = createBulb(deviceSchema.parse({ ...plain, username: key, insecure: true, retries: 0 }) as DeviceConfig)
    await v1.start()
    lightMark = bridge.stdout.length
    await v1.setState({ brightness: 20 })
    const [, v1State] = await bridge.waitFor(/light 1 \(v1\): (\{.*\})/, lightMark)
    expect(JSON.parse(v1State!)).toMatchObject({ on: true, brightness: 20.08 })
    await v1.stop()
  })

  it('an unreachable bridge is one clear line and exit 2; a bad address exit 1', async () => {
    const port = await freePort()
    const unreachable = await genlock('hue', 'pair', `127.0.0.1:${port}`, '--insecure')
    expect(unreachable.code).toBe(2)
    expect(unreachable.stderr).toMatch(
      new RegExp(`^genlock hue pair: cannot reach the Hue bridge at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*\\n$`),
    )
    const bad = await genlock('hue', 'pair', 'bridge:house', '--insecure')
    expect(bad).toMatchObject({
      code: 1,
      stderr: "genlock hue pair: 'bridge:house' is not a bridge address (give host or host:port, e.g. 192.168.1.20)\n",
    })
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBulb, type DeviceConfig } from '../../src/devices/index.js'
import { freePort } from '../support/services.js'
import { genlock, GenlockProcess } from './support/genlock-process.js'

describe('genlock sim hue and genlock hue pair', () => {
  let bridge: GenlockProcess
  let address: string

  beforeAll(async () => {
    bridge = GenlockProcess.start('sim', 'hue', '--port', '0', '--count', '2')
    const [, port] = await bridge.waitFor(/Hue bridge simulator on http:\/\/127\.0\.0\.1:(\d+) /)
    await bridge.waitFor(/ready; Ctrl-C stops/)
    address = `127.0.0.1:${port}`
  })

  afterAll(async () => {
    await bridge?.stop()
  })

  it('before the link button is pressed, pairing fails with one clear line and exit 3', async () => {
    const mark = bridge.stdout.length
    const result = await genlock('hue', 'pair', address, '--insecure', '--timeout', '1')
    expect(result.code).toBe(3)
    expect(result.stderr).toBe(
      `genlock hue pair: the link button on ${address} was not pressed within 1 s: press it, then run genlock hue pair again\n`,
    )
    expect(result.stdout).toContain(`Press the link button on the Hue bridge at ${address} (waiting 1 s)`)
    // The bridge really was asked, and really said no.
    await bridge.waitFor(/refused genlock#[^:]+: link button not pressed/, mark)
  })

  it('after the simulated button press, pairing prints the username and a device file per light, which work', async () => {
    const mark = bridge.stdout.length
    const pair = GenlockProcess.start('hue', 'pair', address, '--insecure', '--timeout', '20')
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
    const [, username] = /export HUE_USERNAME=(\S+)/.exec(pair.stdout)!
    expect(username).toMatch(/^[\w-]{20,}$/)
    expect(pair.stdout).toMatch(/export HUE_CLIENTKEY=[0-9A-F]{32}/)
    expect(pair.stdout).toContain(
      [
        'id: hue_color_lamp_1',
        'name: "Hue color lamp 1"',
        'adapter: hue',
        'host: 127.0.0.1',
        `port: ${address.split(':')[1]}`,
        'username: ${HUE_USERNAME}',
        'light: 1',
        'insecure: true',
        'gamut: C',
      ].join('\n'),
    )
    expect(pair.stdout).toContain('id: hue_ambiance_lamp_2')
    // The secret is not in the simulator's console.
    expect(bridge.stdout).not.toContain(username!)

    // The real Hue adapter, with the new username, drives the simulated bridge.
    const config = {
      id: 'hue_color_lamp_1',
      adapter: 'hue',
      host: '127.0.0.1',
      port: Number(address.split(':')[1]),
      username,
      light: '1',
      insecure: true,
      gamut: 'C',
      capabilities: { dimmable: true, color: true, colorTemp: { min: 2000, max: 6500 } },
      timeoutMs: 2000,
      retries: 0,
      backoffMs: 0,
    } as DeviceConfig
    const bulb = createBulb(config)
    await bulb.start()
    const lightMark = bridge.stdout.length
    await bulb.setState({ on: true, brightness: 50 })
    const [, state] = await bridge.waitFor(/light 1: (\{.*\})/, lightMark)
    expect(JSON.parse(state!)).toMatchObject({ on: true, bri: 127 })
    expect(await bulb.getStatus()).toMatchObject({ on: true, brightness: 50 })
    await bulb.stop()
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

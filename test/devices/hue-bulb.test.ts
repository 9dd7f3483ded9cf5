import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DeviceCommandError, DeviceUnreachableError } from '../../src/devices/errors.js'
import { HueBulb } from '../../src/devices/hue/hue-bulb.js'
import { FakeHueBridge } from './support/fake-hue-bridge.js'

const USER = 'test-app-key-0123456789'
const colorCaps = { dimmable: true, color: true, colorTemp: { min: 2000, max: 6500 } }

describe('HueBulb against a local HTTP bridge', () => {
  let bridge: FakeHueBridge
  beforeEach(async () => {
    bridge = new FakeHueBridge(USER)
    await bridge.start()
  })
  afterEach(async () => {
    await bridge.stop()
  })

  function bulb(light = 1, username = USER) {
    return new HueBulb({
      id: 'bath_bulb',
      capabilities: colorCaps,
      host: '127.0.0.1',
      port: bridge.port,
      username,
      light,
      insecure: true,
      queue: { backoffMs: 0 },
    })
  }

  it('reads the light at start and maps commands to on/bri/xy/ct/transitiontime', async () => {
    const hue = bulb()
    await hue.start()
    expect(hue.state).toEqual({ on: false, brightness: 100, colorTemp: 2732, reachable: true })
    expect(bridge.requests.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining(['GET /api/config', `GET /api/${USER}`, `GET /api/${USER}/lights`]),
    )
    await hue.setState({ on: true, brightness: 50, color: 'red', transition: 400 })
    await hue.setState({ colorTemp: 2700 })
    await hue.setState({ color: '#00ff00', on: false })
    // A colour or white with `on` unset turns the lamp on (a bridge refuses ct/xy for a lamp that is off).
    expect(bridge.stateBodies('1')).toEqual([
      { on: true, bri: 127, xy: [0.64, 0.33], transitiontime: 4 },
      { on: true, ct: 370 },
      { on: false, xy: [0.3, 0.6] },
    ])
    expect(hue.state).toMatchObject({ on: false, brightness: 50, color: { r: 0, g: 255, b: 0 } })
    const status = await hue.getStatus()
    expect(status.on).toBe(false)
    expect(status.color?.g).toBe(255)
  })

  it('gives a white-ambiance lamp ct, never xy, for a colour', async () => {
    const hall = new HueBulb({
      id: 'hall',
      capabilities: { dimmable: true, color: false, colorTemp: { min: 2200, max: 6500 } },
      host: '127.0.0.1',
      port: bridge.port,
      username: USER,
      light: 2,
      insecure: true,
    })
    await hall.start()
    await hall.setColor('red')
    expect(bridge.stateBodies('2')).toEqual([{ on: true, ct: 455 }])
  })

  it('warns when the device file promises colour the lamp does not have', async () => {
    const warnings: string[] = []
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (_object: object, message?: string) => warnings.push(message ?? ''),
    }
    const hall = new HueBulb({
      id: 'hall',
      capabilities: colorCaps,
      host: '127.0.0.1',
      port: bridge.port,
      username: USER,
      light: 2,
      insecure: true,
      logger,
    })
    await hall.start()
    expect(warnings).toContain(
      `hall (hue 127.0.0.1:${bridge.port} light 2): the bridge reports no color for this lamp; fix capabilities in its device file`,
    )
  })

  it('retries a busy bridge and a dropped connection', async () => {
    const hue = bulb()
    await hue.start()
    bridge.fault = 'busy-once'
    await hue.setPower(true)
    bridge.fault = 'reset-once'
    await hue.setPower(false)
    expect(bridge.stateBodies('1')).toEqual([{ on: true }, { on: true }, { on: false }, { on: false }])
  })

  it('reports a lamp the bridge cannot reach, without retrying', async () => {
    const hue = bulb()
    await hue.start()
    bridge.fault = 'unreachable'
    await expect(hue.setPower(true)).rejects.toThrow(
      new DeviceUnreachableError(
        `bath_bulb (hue 127.0.0.1:${bridge.port} light 1)`,
        'the bridge says the light is not reachable',
      ),
    )
    expect(bridge.stateBodies('1')).toHaveLength(1)
    expect(hue.state.reachable).toBe(false)
  })

  it('names the device, and never the username, when the bridge refuses it', async () => {
    const hue = bulb(1, 'wrong-user-secret')
    const error = await hue.setPower(true).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeviceCommandError)
    expect(String(error)).toContain('bath_bulb (hue 127.0.0.1:')
    expect(String(error)).not.toContain('wrong-user-secret')
  })
})

import { Device } from 'tplink-smarthome-simulator'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DeviceTimeoutError } from '../../src/devices/errors.js'
import { KasaBulb } from '../../src/devices/kasa/kasa-bulb.js'
import { freePort } from '../support/services.js'
import { FaultProxy } from './support/fault-proxy.js'
import { startKasaDevice } from './support/kasa-device.js'

/** Collects what the simulated bulb was sent, as decrypted JSON. */
function recordRequests(device: Device): Record<string, unknown>[] {
  const seen: Record<string, unknown>[] = []
  device.deviceNetworking.on('data', ({ message }: { message: string }) =>
    seen.push(JSON.parse(message) as Record<string, unknown>),
  )
  return seen
}

function lightStateBodies(seen: Record<string, unknown>[]): unknown[] {
  return seen.flatMap((request) => {
    const service = request['smartlife.iot.smartbulb.lightingservice'] as Record<string, unknown> | undefined
    return service?.transition_light_state ? [service.transition_light_state] : []
  })
}

describe('KasaBulb against tplink-smarthome-simulator', () => {
  let lb130: Device
  let lb100: Device
  beforeEach(async () => {
    lb130 = await startKasaDevice({
      model: 'lb130',
      address: '127.0.0.1',
      port: 0,
      data: { alias: 'Bath', mac: '50:c7:bf:00:00:01' },
    })
    lb100 = await startKasaDevice({
      model: 'lb100',
      address: '127.0.0.1',
      port: 0,
      data: { alias: 'Hall', mac: '50:c7:bf:00:00:02' },
    })
  })
  afterEach(async () => {
    await lb130.stop()
    await lb100.stop()
  })

  it('sets colour, white and brightness on an LB130 with transition_period', async () => {
    const seen = recordRequests(lb130)
    const bulb = new KasaBulb({
      id: 'bath_bulb',
      capabilities: { dimmable: true, color: true, colorTemp: { min: 2500, max: 9000 } },
      host: '127.0.0.1',
      port: lb130.port,
    })
    await bulb.start()
    expect(bulb.state.reachable).toBe(true)
    await bulb.setState({ on: true, color: '#ff8800', brightness: 60, transition: 1500 })
    await bulb.setState({ colorTemp: 3000 })
    expect(lightStateBodies(seen)).toEqual([
      {
        on_off: 1,
        brightness: 60,
        hue: 32,
        saturation: 100,
        color_temp: 0,
        transition_period: 1500,
        ignore_default: 1,
      },
      { on_off: 1, color_temp: 3000, ignore_default: 1 },
    ])
    expect(await bulb.getStatus()).toEqual({ on: true, brightness: 60, colorTemp: 3000, reachable: true })
  })

  it('gives an LB100 (white, fixed temperature) brightness and power only', async () => {
    const seen = recordRequests(lb100)
    const bulb = new KasaBulb({
      id: 'hall_bulb',
      capabilities: { dimmable: true, color: false },
      host: '127.0.0.1',
      port: lb100.port,
    })
    await bulb.start()
    await bulb.setBrightness(30)
    await expect(bulb.setColor('red')).rejects.toThrow('hall_bulb (kasa 127.0.0.1:')
    expect(lightStateBodies(seen)).toEqual([{ on_off: 1, brightness: 30, ignore_default: 1 }])
    expect(await bulb.getStatus()).toEqual({ on: true, brightness: 30, reachable: true })
  })

  it('starts without the bulb after one quick probe, and reaches it once it is plugged in', async () => {
    const port = await freePort()
    const warnings: string[] = []
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (_object: object, message?: string) => warnings.push(message ?? ''),
    }
    const bulb = new KasaBulb({
      id: 'late_bulb',
      capabilities: { dimmable: true, color: true },
      host: '127.0.0.1',
      port,
      logger,
      queue: { backoffMs: 0 },
    })
    await bulb.start()
    expect(bulb.state.reachable).toBe(false)
    expect(warnings).toContain(`late_bulb (kasa 127.0.0.1:${port}): not reachable at start`)
    const late = new Device({
      model: 'lb130',
      address: '127.0.0.1',
      port,
      data: { alias: 'Late', mac: '50:c7:bf:00:00:09' },
    })
    await late.start()
    try {
      await expect(bulb.setPower(true)).resolves.toMatchObject({ on: true, reachable: true })
    } finally {
      await late.stop()
    }
  })

  describe('through a fault proxy', () => {
    let proxy: FaultProxy
    beforeEach(async () => {
      proxy = new FaultProxy('127.0.0.1', lb130.port)
      await proxy.start()
    })
    afterEach(async () => {
      await proxy.stop()
    })

    it('retries a dropped connection', async () => {
      const seen = recordRequests(lb130)
      const bulb = new KasaBulb({
        id: 'bath_bulb',
        capabilities: { dimmable: true, color: true },
        host: '127.0.0.1',
        port: proxy.port,
        queue: { backoffMs: 0 },
      })
      await bulb.start()
      proxy.fault = 'reset-once'
      await expect(bulb.setPower(true)).resolves.toMatchObject({ on: true })
      expect(lightStateBodies(seen)).toEqual([{ on_off: 1, ignore_default: 1 }])
    })

    it('times out a bulb that does not answer, naming it', async () => {
      const bulb = new KasaBulb({
        id: 'bath_bulb',
        capabilities: { dimmable: true, color: true },
        host: '127.0.0.1',
        port: proxy.port,
        queue: { timeoutMs: 100, retries: 0 },
      })
      await bulb.start()
      proxy.fault = 'hang'
      await expect(bulb.setPower(true)).rejects.toThrow(
        new DeviceTimeoutError(`bath_bulb (kasa 127.0.0.1:${proxy.port})`, 100),
      )
      expect(bulb.state.reachable).toBe(false)
    })
  })
})

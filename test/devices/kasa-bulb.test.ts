import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BulbEvent } from '../../src/devices/bulb.js'
import { DeviceTimeoutError } from '../../src/devices/errors.js'
import { KasaBulb } from '../../src/devices/kasa/kasa-bulb.js'
import { KasaSimulator, type SimulatedKasaBulb } from '../../src/simulators/kasa.js'

/** The `transition_light_state` bodies a simulated bulb answered, in order. */
function lightStateBodies(bulb: SimulatedKasaBulb): unknown[] {
  return bulb.requests.flatMap(({ request, outcome }) => {
    const service = request['smartlife.iot.smartbulb.lightingservice'] as Record<string, unknown> | undefined
    return outcome === 'answered' && service?.transition_light_state ? [service.transition_light_state] : []
  })
}

/** Whether a logged request read the light state (what a poll sends). */
function isLightStateRead({ request }: { request: Record<string, unknown> }): boolean {
  const service = request['smartlife.iot.smartbulb.lightingservice'] as Record<string, unknown> | undefined
  return service?.get_light_state !== undefined
}

describe('KasaBulb against the Kasa simulator (legacy protocol)', () => {
  let sim: KasaSimulator
  let lb130: SimulatedKasaBulb
  let lb100: SimulatedKasaBulb
  beforeEach(async () => {
    sim = await KasaSimulator.start({ port: 0, models: ['lb130', 'lb100'] })
    ;[lb130, lb100] = sim.bulbs as [SimulatedKasaBulb, SimulatedKasaBulb]
  })
  afterEach(async () => {
    await sim.stop()
  })

  it('sets colour, white and brightness on an LB130 with transition_period', async () => {
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
    expect(lightStateBodies(lb130)).toEqual([
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
    await bulb.stop()
  })

  it('gives an LB100 (white, fixed temperature) brightness and power only', async () => {
    const bulb = new KasaBulb({
      id: 'hall_bulb',
      capabilities: { dimmable: true, color: false },
      host: '127.0.0.1',
      port: lb100.port,
    })
    await bulb.start()
    await bulb.setBrightness(30)
    await expect(bulb.setColor('red')).rejects.toThrow('hall_bulb (kasa 127.0.0.1:')
    expect(lightStateBodies(lb100)).toEqual([{ on_off: 1, brightness: 30, ignore_default: 1 }])
    expect(await bulb.getStatus()).toEqual({ on: true, brightness: 30, reachable: true })
    await bulb.stop()
  })

  it('starts without the bulb after one quick probe, and reaches it once it is plugged in', async () => {
    await lb130.unplug()
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
      port: lb130.port,
      logger,
      queue: { backoffMs: 0 },
    })
    await bulb.start()
    expect(bulb.state.reachable).toBe(false)
    expect(warnings).toContain(`late_bulb (kasa 127.0.0.1:${lb130.port}): not reachable at start`)
    await lb130.plugIn()
    await expect(bulb.setPower(true)).resolves.toMatchObject({ on: true, reachable: true })
    await bulb.stop()
  })

  it('retries a dropped connection', async () => {
    const bulb = new KasaBulb({
      id: 'bath_bulb',
      capabilities: { dimmable: true, color: true },
      host: '127.0.0.1',
      port: lb130.port,
      queue: { backoffMs: 0 },
    })
    await bulb.start()
    lb130.resetNext()
    await expect(bulb.setPower(true)).resolves.toMatchObject({ on: true })
    expect(lb130.requests.map((entry) => entry.outcome).slice(-2)).toEqual(['reset', 'answered'])
    expect(lightStateBodies(lb130)).toEqual([{ on_off: 1, ignore_default: 1 }])
    await bulb.stop()
  })

  it('polls: a change made in the Kasa app is seen as an outside change, the echo of its own command never', async () => {
    const bulb = new KasaBulb({
      id: 'bath_bulb',
      capabilities: { dimmable: true, color: true, colorTemp: { min: 2500, max: 9000 } },
      host: '127.0.0.1',
      port: lb130.port,
      pollMs: 100,
    })
    const events: BulbEvent[] = []
    bulb.subscribe((event) => events.push(event))
    await bulb.start()
    await bulb.setState({ on: true, color: '#ff8800', brightness: 60 })
    const polled = (count: number) =>
      new Promise<void>((resolve) =>
        lb130.onRequest(() => lb130.requests.filter(isLightStateRead).length >= count && resolve()),
      )
    await polled(lb130.requests.filter(isLightStateRead).length + 2)
    expect(events.filter((event) => event.type === 'state' && event.outside)).toEqual([])
    const seen = new Promise<BulbEvent>((resolve) =>
      bulb.subscribe((event) => event.type === 'state' && event.outside && resolve(event)),
    )
    lb130.changeFromApp({ hue: 240, saturation: 100, brightness: 25 })
    expect(await seen).toEqual({
      type: 'state',
      state: { on: true, brightness: 25, color: { r: 0, g: 0, b: 255 }, reachable: true },
      outside: true,
    })
    await bulb.stop()
  })

  it('polling backs off while the bulb is unplugged and sees it again, unreachable in between', async () => {
    const bulb = new KasaBulb({
      id: 'bath_bulb',
      capabilities: { dimmable: true, color: true },
      host: '127.0.0.1',
      port: lb130.port,
      pollMs: 100,
    })
    await bulb.start()
    const availability: boolean[] = []
    const back = new Promise<void>((resolve) =>
      bulb.subscribe((event) => {
        if (event.type !== 'availability') return
        availability.push(event.reachable)
        if (event.reachable) resolve()
      }),
    )
    const gone = new Promise<void>((resolve) =>
      bulb.subscribe((event) => event.type === 'availability' && !event.reachable && resolve()),
    )
    await lb130.unplug()
    await gone
    await lb130.plugIn()
    await back
    expect(availability).toEqual([false, true])
    await bulb.stop()
  })

  it('times out a bulb that does not answer, naming it', async () => {
    const bulb = new KasaBulb({
      id: 'bath_bulb',
      capabilities: { dimmable: true, color: true },
      host: '127.0.0.1',
      port: lb130.port,
      queue: { timeoutMs: 100, retries: 0 },
    })
    await bulb.start()
    lb130.hang(true)
    await expect(bulb.setPower(true)).rejects.toThrow(
      new DeviceTimeoutError(`bath_bulb (kasa 127.0.0.1:${lb130.port})`, 100),
    )
    expect(bulb.state.reachable).toBe(false)
    expect(lb130.requests.at(-1)?.outcome).toBe('hung')
    await bulb.stop()
  })
})

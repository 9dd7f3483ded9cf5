import { describe, expect, it } from 'vitest'
import type { BulbEvent, BulbState } from '../../src/devices/bulb.js'
import { checkReportedState, colorDistance, echoWithin, xyDistance } from '../../src/devices/reported-state.js'
import { SimBulb } from '../../src/devices/sim/sim-bulb.js'

const ON: BulbState = { on: true, brightness: 50, colorTemp: 2700, reachable: true }

function recorded(bulb: SimBulb) {
  const events: BulbEvent[] = []
  bulb.subscribe((event) => events.push(event))
  return {
    events,
    outside: () => events.flatMap((event) => (event.type === 'state' && event.outside ? [event.state] : [])),
  }
}

describe('echoWithin', () => {
  const kasa = echoWithin({ brightness: 0, mireds: 1, color: 0.02 })
  const zigbee = echoWithin({ brightness: 1, mireds: 2, color: 0.04, colorSpace: 'xy' })

  it('matches within the tolerance and not beyond it', () => {
    expect(zigbee(ON, { ...ON, brightness: 51 })).toBe(true)
    expect(zigbee(ON, { ...ON, brightness: 52 })).toBe(false)
    // 2700 K is 370.4 mireds: 2703 K (370 mireds) is rounding, 2800 K (357 mireds) a person's choice.
    expect(zigbee(ON, { ...ON, colorTemp: 2703 })).toBe(true)
    expect(zigbee(ON, { ...ON, colorTemp: 2800 })).toBe(false)
    expect(
      kasa(
        { ...ON, colorTemp: undefined, color: { r: 255, g: 136, b: 0 } },
        { ...ON, colorTemp: undefined, color: { r: 255, g: 133, b: 0 } },
      ),
    ).toBe(true)
    expect(
      kasa(
        { ...ON, colorTemp: undefined, color: { r: 255, g: 0, b: 0 } },
        { ...ON, colorTemp: undefined, color: { r: 255, g: 165, b: 0 } },
      ),
    ).toBe(false)
  })

  it('tells colour from white and on from off, and ignores the look of two off bulbs', () => {
    expect(kasa(ON, { ...ON, colorTemp: undefined, color: { r: 255, g: 255, b: 255 } })).toBe(false)
    expect(kasa(ON, { ...ON, on: false })).toBe(false)
    expect(
      kasa({ ...ON, on: false }, { on: false, brightness: 10, color: { r: 0, g: 0, b: 255 }, reachable: true }),
    ).toBe(true)
  })

  it('measures colour on the hue/saturation disc without value, or in xy', () => {
    expect(colorDistance({ r: 255, g: 0, b: 0 }, { r: 128, g: 0, b: 0 })).toBeCloseTo(0, 6)
    expect(colorDistance({ r: 255, g: 0, b: 0 }, { r: 0, g: 255, b: 255 })).toBeCloseTo(2, 6)
    // A deep blue loses 0.17 on the disc through xy and back, but stays put in xy.
    expect(xyDistance({ r: 0, g: 0, b: 255 }, { r: 40, g: 0, b: 255 })).toBeLessThan(0.04)
  })
})

describe('checkReportedState', () => {
  it('keeps a state in range as it is', () => {
    expect(checkReportedState(ON, ON)).toEqual({ state: ON, problems: [] })
  })

  it('drops out-of-range fields, keeping the previous value of each', () => {
    const previous: BulbState = { on: true, brightness: 40, color: { r: 255, g: 0, b: 0 }, reachable: true }
    expect(checkReportedState({ on: true, brightness: 118, colorTemp: -10_000, reachable: true }, previous)).toEqual({
      state: previous,
      problems: [
        { field: 'brightness', value: 118, expected: '0–100 %' },
        { field: 'colorTemp', value: -10_000, expected: '1000–40000 K' },
      ],
    })
    expect(
      checkReportedState({ on: true, brightness: 40, color: { r: 300, g: Number.NaN, b: 0 }, reachable: true }, ON)
        .state,
    ).toEqual({ on: true, brightness: 40, colorTemp: 2700, reachable: true })
  })
})

describe('QueuedBulb tells outside changes from echoes (through SimBulb)', () => {
  it("genlock's commands and reads of them are never outside; a change from the app is, once", async () => {
    const bulb = new SimBulb({ id: 'desk' })
    await bulb.start()
    const { events, outside } = recorded(bulb)
    await bulb.setState({ on: true, color: 'red', brightness: 30 })
    await bulb.getStatus()
    await bulb.setState({ colorTemp: 3000 })
    await bulb.getStatus()
    expect(outside()).toEqual([])
    bulb.changeFromApp({ brightness: 90 })
    expect(outside()).toEqual([{ on: true, brightness: 90, colorTemp: 3000, reachable: true }])
    await bulb.getStatus()
    expect(outside()).toHaveLength(1)
    expect(events.at(-1)).toEqual({
      type: 'state',
      state: { on: true, brightness: 90, colorTemp: 3000, reachable: true },
      outside: true,
    })
  })

  it('a report that repeats a look genlock commanded earlier in a burst is its late echo', async () => {
    const bulb = new SimBulb({ id: 'desk', latencyMs: 5 })
    await bulb.start()
    const { outside } = recorded(bulb)
    const burst = [10, 20, 30].map((brightness) => bulb.setState({ on: true, brightness }))
    await Promise.all(burst)
    // The bulb reports the first look of the burst late (as a Zigbee light without confirm may): an echo.
    ;(bulb as unknown as { reportObserved(state: BulbState): BulbState }).reportObserved({
      on: true,
      brightness: 10,
      reachable: true,
    })
    expect(outside()).toEqual([])
    expect(bulb.state.brightness).toBe(30)
  })

  it('drops an out-of-range report with a warning naming the device and field', async () => {
    const warnings: string[] = []
    const logger = { debug() {}, info() {}, error() {}, warn: (_: object, message?: string) => warnings.push(message!) }
    const bulb = new SimBulb({ id: 'desk', logger })
    await bulb.start()
    ;(bulb as unknown as { reportObserved(state: BulbState): BulbState }).reportObserved({
      on: false,
      brightness: 100,
      colorTemp: -10_000,
      reachable: true,
    })
    expect(bulb.state.colorTemp).toBeUndefined()
    expect(warnings).toEqual([
      'desk (sim): reported colorTemp -10000 is out of range (1000–40000 K); kept the previous value',
    ])
  })
})

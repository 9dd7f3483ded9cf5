import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  clipToGamut,
  HUE_GAMUTS,
  kelvinToMireds,
  kelvinToXy,
  miredsToKelvin,
  nearestWhite,
  parseColor,
  rgbToHueSaturation,
  rgbToXy,
  toHex,
  xyToRgb,
} from '../../src/devices/color.js'

describe('colour parsing', () => {
  it('reads CSS names, hex, {r,g,b}, {h,s,v} and kelvin', () => {
    expect(parseColor('red')).toEqual({ kind: 'rgb', rgb: { r: 255, g: 0, b: 0 } })
    expect(parseColor('#ff8800')).toEqual({ kind: 'rgb', rgb: { r: 255, g: 136, b: 0 } })
    expect(parseColor('#f80')).toEqual({ kind: 'rgb', rgb: { r: 255, g: 136, b: 0 } })
    expect(parseColor({ r: 10, g: 20, b: 30 })).toEqual({ kind: 'rgb', rgb: { r: 10, g: 20, b: 30 } })
    expect(parseColor({ h: 120, s: 100, v: 100 })).toEqual({ kind: 'rgb', rgb: { r: 0, g: 255, b: 0 } })
    expect(parseColor({ kelvin: 2700 })).toEqual({ kind: 'kelvin', kelvin: 2700 })
  })

  it('says what is wrong with a bad colour', () => {
    expect(() => parseColor('reddish')).toThrow("'reddish' is not a colour")
    expect(() => parseColor({ r: 300, g: 0, b: 0 })).toThrow('r 300 is not in 0–255')
    expect(() => parseColor({ h: 10, s: 120, v: 0 })).toThrow('s 120 is not in 0–100')
    expect(() => parseColor({ kelvin: 50 })).toThrow('kelvin 50 is not in 1000–40000')
  })
})

describe('colour conversion', () => {
  it('gives sRGB primaries their CIE xy', () => {
    const round = (xy: { x: number; y: number }) => [Number(xy.x.toFixed(3)), Number(xy.y.toFixed(3))]
    expect(round(rgbToXy({ r: 255, g: 0, b: 0 }))).toEqual([0.64, 0.33])
    expect(round(rgbToXy({ r: 0, g: 255, b: 0 }))).toEqual([0.3, 0.6])
    expect(round(rgbToXy({ r: 0, g: 0, b: 255 }))).toEqual([0.15, 0.06])
    expect(round(rgbToXy({ r: 255, g: 255, b: 255 }))).toEqual([0.313, 0.329])
  })

  it('clips xy into a Hue gamut, leaving colours inside untouched', () => {
    const inside = { x: 0.4, y: 0.4 }
    expect(clipToGamut(inside, HUE_GAMUTS.B)).toEqual(inside)
    // sRGB green is outside gamut B; the nearest colour the lamp can show is B's green corner.
    expect(clipToGamut(rgbToXy({ r: 0, g: 255, b: 0 }), HUE_GAMUTS.B)).toEqual(HUE_GAMUTS.B.green)
    // sRGB blue is just outside gamut C: it lands on the blue–red edge, barely moved.
    const blue = clipToGamut(rgbToXy({ r: 0, g: 0, b: 255 }), HUE_GAMUTS.C)
    expect(blue).not.toEqual(rgbToXy({ r: 0, g: 0, b: 255 }))
    expect(Math.hypot(blue.x - 0.15, blue.y - 0.06)).toBeLessThan(0.01)
  })

  it('keeps every clipped point inside the gamut triangle (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 0.8, noNaN: true }),
        fc.double({ min: 0.01, max: 0.9, noNaN: true }),
        fc.constantFrom('A', 'B', 'C'),
        (x, y, name) => {
          const gamut = HUE_GAMUTS[name as 'A' | 'B' | 'C']
          const p = clipToGamut({ x, y }, gamut)
          const again = clipToGamut(p, gamut)
          expect(again.x).toBeCloseTo(p.x, 9)
          expect(again.y).toBeCloseTo(p.y, 9)
        },
      ),
    )
  })

  it('round-trips a colour through xy to the same hue and saturation', () => {
    const back = xyToRgb(rgbToXy({ r: 255, g: 136, b: 0 }))
    expect(rgbToHueSaturation(back)).toEqual(rgbToHueSaturation({ r: 255, g: 136, b: 0 }))
    expect(toHex(back)).toMatch(/^#ff8[0-9a-f]00$/)
  })

  it('gives Kasa hue/saturation and mireds', () => {
    expect(rgbToHueSaturation({ r: 255, g: 136, b: 0 })).toEqual({ hue: 32, saturation: 100 })
    expect(rgbToHueSaturation({ r: 255, g: 255, b: 255 })).toEqual({ hue: 0, saturation: 0 })
    expect(kelvinToMireds(2700)).toBe(370)
    expect(miredsToKelvin(153)).toBe(6536)
  })

  it('follows the Planckian locus for white', () => {
    const xy = kelvinToXy(6500)
    expect(xy.x).toBeCloseTo(0.3135, 3)
    expect(xy.y).toBeCloseTo(0.3237, 3)
  })

  it('picks the nearest white for a white-only bulb: warm for red/orange, cool for blue, own temperature for white', () => {
    const range = { min: 2700, max: 6500 }
    expect(nearestWhite({ r: 255, g: 0, b: 0 }, range)).toBe(2700)
    expect(nearestWhite({ r: 255, g: 165, b: 0 }, range)).toBe(2700)
    expect(nearestWhite({ r: 0, g: 0, b: 255 }, range)).toBe(6500)
    const daylight = nearestWhite({ r: 255, g: 255, b: 255 }, range)
    expect(daylight).toBeGreaterThan(6000)
  })
})

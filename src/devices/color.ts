/**
 * Colour handling shared by every adapter: parse what a user wrote, and convert it to what a bulb speaks
 * (CIE xy clipped to a Hue gamut, Kasa hue/saturation, mireds). Parsing and colour-space maths are culori's;
 * this file only adds the lighting-specific parts (gamuts, the Planckian locus, white fallback).
 */
import { createRequire } from 'node:module'
import type { ColorInput, Rgb } from './bulb.js'

// culori's one-file CommonJS build, not its ESM source: the ESM entry is ~150 modules, and loading them was the
// largest single cost of starting the daemon (~0.5 s on this machine). Same library, same functions.
const culori = createRequire(import.meta.url)('culori/require') as typeof import('culori')
const { converter, formatHex, parse } = culori

const toRgb = converter('rgb')
const toXyz = converter('xyz65')
const toHsv = converter('hsv')

/** A parsed colour: either a colour (RGB, 0–255) or a white colour temperature in kelvin. */
export type ParsedColor =
  { readonly kind: 'rgb'; readonly rgb: Rgb } | { readonly kind: 'kelvin'; readonly kelvin: number }

/** CIE 1931 chromaticity. */
export interface Xy {
  readonly x: number
  readonly y: number
}

/** Thrown when a colour value cannot be understood; the message quotes the value. */
export class ColorParseError extends Error {
  override readonly name = 'ColorParseError'
}

/**
 * Parses any {@link ColorInput}: a CSS name (`red`), hex (`#ff8800`), any other CSS colour culori reads,
 * `{ r, g, b }` (0–255), `{ h, s, v }` (h 0–360, s and v 0–100) or `{ kelvin }`.
 *
 * @example parseColor('orange') // { kind: 'rgb', rgb: { r: 255, g: 165, b: 0 } }
 */
export function parseColor(input: ColorInput): ParsedColor {
  if (typeof input === 'string') {
    const parsed = parse(input.trim())
    if (!parsed)
      throw new ColorParseError(`'${input}' is not a colour (use a CSS name like 'red', or hex like '#ff8800')`)
    return { kind: 'rgb', rgb: fromUnitRgb(toRgb(parsed)) }
  }
  if (input && typeof input === 'object') {
    if ('kelvin' in input) {
      if (!isFiniteIn(input.kelvin, 1000, 40000))
        throw new ColorParseError(`kelvin ${input.kelvin} is not in 1000–40000`)
      return { kind: 'kelvin', kelvin: input.kelvin }
    }
    if ('r' in input) {
      for (const channel of ['r', 'g', 'b'] as const) {
        if (!isFiniteIn(input[channel], 0, 255))
          throw new ColorParseError(`${channel} ${input[channel]} is not in 0–255`)
      }
      return { kind: 'rgb', rgb: { r: Math.round(input.r), g: Math.round(input.g), b: Math.round(input.b) } }
    }
    if ('h' in input) {
      if (!isFiniteIn(input.h, 0, 360)) throw new ColorParseError(`h ${input.h} is not in 0–360`)
      if (!isFiniteIn(input.s, 0, 100)) throw new ColorParseError(`s ${input.s} is not in 0–100`)
      if (!isFiniteIn(input.v, 0, 100)) throw new ColorParseError(`v ${input.v} is not in 0–100`)
      return { kind: 'rgb', rgb: fromUnitRgb(toRgb({ mode: 'hsv', h: input.h, s: input.s / 100, v: input.v / 100 })) }
    }
  }
  throw new ColorParseError(`${JSON.stringify(input)} is not a colour (use a name, hex, {r,g,b}, {h,s,v} or {kelvin})`)
}

/** The CSS colour names a string colour may use, e.g. for suggesting one close to a misspelt name. */
export const CSS_COLOR_NAMES: readonly string[] = Object.keys(culori.colorsNamed)

/** `#rrggbb` for logs and messages. */
export function toHex(rgb: Rgb): string {
  return formatHex({ mode: 'rgb', r: rgb.r / 255, g: rgb.g / 255, b: rgb.b / 255 })
}

/** The colour's chromaticity (its brightness is dropped); black maps to the D65 white point. */
export function rgbToXy(rgb: Rgb): Xy {
  const { x, y, z } = toXyz({ mode: 'rgb', r: rgb.r / 255, g: rgb.g / 255, b: rgb.b / 255 })
  const sum = x + y + z
  if (sum <= 0) return D65
  return { x: x / sum, y: y / sum }
}

/** The brightest sRGB colour with chromaticity `xy` (clipped into sRGB). */
export function xyToRgb(xy: Xy): Rgb {
  if (xy.y <= 0) return { r: 0, g: 0, b: 0 }
  const Y = 1
  const X = (xy.x / xy.y) * Y
  const Z = ((1 - xy.x - xy.y) / xy.y) * Y
  const linear = toRgb({ mode: 'xyz65', x: X, y: Y, z: Z })
  const max = Math.max(linear.r, linear.g, linear.b, 1e-9)
  return fromUnitRgb({ r: linear.r / max, g: linear.g / max, b: linear.b / max })
}

/** A Hue lamp's reachable colours, as a triangle of xy corners. */
export interface Gamut {
  readonly red: Xy
  readonly green: Xy
  readonly blue: Xy
}

/** Philips Hue gamuts as the bridge reports them (`capabilities.control.colorgamuttype`). */
export const HUE_GAMUTS: Readonly<Record<'A' | 'B' | 'C', Gamut>> = {
  A: { red: { x: 0.704, y: 0.296 }, green: { x: 0.2151, y: 0.7106 }, blue: { x: 0.138, y: 0.08 } },
  B: { red: { x: 0.675, y: 0.322 }, green: { x: 0.409, y: 0.518 }, blue: { x: 0.167, y: 0.04 } },
  C: { red: { x: 0.6915, y: 0.3083 }, green: { x: 0.17, y: 0.7 }, blue: { x: 0.1532, y: 0.0475 } },
}

/** `xy` itself when the lamp can show it, else the nearest point on the gamut triangle's edge. */
export function clipToGamut(xy: Xy, gamut: Gamut): Xy {
  const { red, green, blue } = gamut
  if (insideTriangle(xy, red, green, blue)) return xy
  const candidates = [
    closestOnSegment(xy, red, green),
    closestOnSegment(xy, green, blue),
    closestOnSegment(xy, blue, red),
  ]
  let best = candidates[0]!
  for (const candidate of candidates) if (distance(candidate, xy) < distance(best, xy)) best = candidate
  return best
}

/** Rounds to the 4 decimals a Hue bridge keeps, so what we send is what we read back. */
export function roundXy(xy: Xy): Xy {
  return { x: Math.round(xy.x * 10000) / 10000, y: Math.round(xy.y * 10000) / 10000 }
}

/** Kasa speaks hue 0–360 and saturation 0–100 (brightness is sent separately). */
export function rgbToHueSaturation(rgb: Rgb): { hue: number; saturation: number } {
  const hsv = toHsv({ mode: 'rgb', r: rgb.r / 255, g: rgb.g / 255, b: rgb.b / 255 })
  return { hue: Math.round(hsv.h ?? 0) % 360, saturation: Math.round((hsv.s ?? 0) * 100) }
}

/** The full-brightness colour a Kasa bulb shows for hue/saturation. */
export function hueSaturationToRgb(hue: number, saturation: number): Rgb {
  return fromUnitRgb(toRgb({ mode: 'hsv', h: hue, s: saturation / 100, v: 1 }))
}

/** Kelvin ⇄ mireds (Hue `ct`, Zigbee `color_temp`). Rounded to whole numbers, as bulbs expect. */
export function kelvinToMireds(kelvin: number): number {
  return Math.round(1_000_000 / kelvin)
}

export function miredsToKelvin(mireds: number): number {
  return Math.round(1_000_000 / mireds)
}

/**
 * Chromaticity of a black body at `kelvin` (the Planckian locus), by the cubic-spline approximation of
 * Kim et al. (valid 1667–25000 K; values outside are clamped).
 */
export function kelvinToXy(kelvin: number): Xy {
  const t = Math.min(25000, Math.max(1667, kelvin))
  const x =
    t <= 4000
      ? -0.2661239e9 / t ** 3 - 0.234358e6 / t ** 2 + 0.8776956e3 / t + 0.17991
      : -3.0258469e9 / t ** 3 + 2.1070379e6 / t ** 2 + 0.2226347e3 / t + 0.24039
  const y =
    t <= 2222
      ? -1.1063814 * x ** 3 - 1.3481102 * x ** 2 + 2.18555832 * x - 0.20219683
      : t <= 4000
        ? -0.9549476 * x ** 3 - 1.37418593 * x ** 2 + 2.09137015 * x - 0.16748867
        : 3.081758 * x ** 3 - 5.8733867 * x ** 2 + 3.75112997 * x - 0.37001483
  return { x, y }
}

/** The sRGB colour of white light at `kelvin`, for state reports of bulbs that only know colour. */
export function kelvinToRgb(kelvin: number): Rgb {
  return xyToRgb(kelvinToXy(kelvin))
}

/**
 * The white-only fallback: the colour temperature in `range` whose chromaticity is closest to the colour's.
 * Reds and oranges land at the warm end, blues at the cool end, whites near their own temperature.
 */
export function nearestWhite(rgb: Rgb, range: { readonly min: number; readonly max: number }): number {
  const target = rgbToXy(rgb)
  let best = range.min
  let bestDistance = Infinity
  const step = Math.max(10, Math.round((range.max - range.min) / 200))
  for (let kelvin = range.min; kelvin <= range.max; kelvin += step) {
    const d = distance(kelvinToXy(kelvin), target)
    if (d < bestDistance) {
      bestDistance = d
      best = kelvin
    }
  }
  return best
}

/** True when the colour is close enough to white that a white-only bulb shows it faithfully. */
export function isNearWhite(rgb: Rgb): boolean {
  const hsv = toHsv({ mode: 'rgb', r: rgb.r / 255, g: rgb.g / 255, b: rgb.b / 255 })
  return (hsv.s ?? 0) < 0.25
}

const D65: Xy = { x: 0.3127, y: 0.329 }

function fromUnitRgb(color: { r: number; g: number; b: number }): Rgb {
  const channel = (value: number) => Math.round(Math.min(1, Math.max(0, value)) * 255)
  return { r: channel(color.r), g: channel(color.g), b: channel(color.b) }
}

function isFiniteIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max
}

function distance(a: Xy, b: Xy): number {
  return Math.hypot(a.x - b.x, a.y - b.y)
}

function cross(o: Xy, a: Xy, b: Xy): number {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
}

function insideTriangle(p: Xy, a: Xy, b: Xy, c: Xy): boolean {
  const d1 = cross(p, a, b)
  const d2 = cross(p, b, c)
  const d3 = cross(p, c, a)
  const negative = d1 < 0 || d2 < 0 || d3 < 0
  const positive = d1 > 0 || d2 > 0 || d3 > 0
  return !(negative && positive)
}

function closestOnSegment(p: Xy, a: Xy, b: Xy): Xy {
  const dx = b.x - a.x
  const dy = b.y - a.y
  const t = Math.min(1, Math.max(0, ((p.x - a.x) * dx + (p.y - a.y) * dy) / (dx * dx + dy * dy)))
  return { x: a.x + t * dx, y: a.y + t * dy }
}

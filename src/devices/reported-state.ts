/**
 * States a bulb reports on its own (a poll, an event stream, an MQTT state message): checked like a command before
 * they are believed, and compared with what genlock commanded, so a person's change is told from the echo of
 * genlock's own command.
 */
import type { BulbState, Rgb } from './bulb.js'
import { clipToGamut, HUE_GAMUTS, rgbToXy } from './color.js'

/**
 * Whether `reported` is the bulb showing `commanded` (give or take the rounding of the bulb's own units). Adapters
 * whose units need more than {@link echoWithin} (Hue's gamut mapping) pass their own pure function.
 */
export type EchoMatcher = (commanded: BulbState, reported: BulbState) => boolean

/** How far a reported look may be from the commanded one and still be its echo. */
export interface EchoTolerance {
  /** Percentage points of brightness. */
  readonly brightness: number
  /**
   * Colour temperature, in mireds: bulbs step in mireds, so a kelvin tolerance would be too tight at the warm end and
   * too loose at the cool end.
   */
  readonly mireds: number
  /** Largest colour distance in `colorSpace`. */
  readonly color: number
  /**
   * Where colours are compared, either way ignoring a colour's value (brightness is its own field):
   * - `hs` (default): the hue/saturation disc, saturation as radius 0–1 and hue as angle; 0.01 is 1 % of saturation,
   *   or 0.6° of hue at full saturation. For bulbs that speak hue/saturation or RGB.
   * - `xy`: CIE xy chromaticity within Hue's gamut C, as genlock sends colours to Zigbee lights. Comparing there
   *   avoids the loss of converting a deep blue to RGB and back (0.17 on the disc, 0.004 in xy).
   */
  readonly colorSpace?: 'hs' | 'xy'
}

/** Exact apart from floating-point noise: for bulbs that report back exactly what they took (the sim). */
export const EXACT_ECHO: EchoTolerance = { brightness: 0, mireds: 0.5, color: 0.002 }

/**
 * Builds an {@link EchoMatcher} that compares on/off, brightness, and colour or colour temperature within
 * `tolerance`. Two bulbs that are both off match whatever their look: an off bulb's look cannot be seen, and bulbs
 * report it differently (Kasa gives the look it will come back with, Zigbee lights the last one).
 */
export function echoWithin(tolerance: EchoTolerance): EchoMatcher {
  const distance = tolerance.colorSpace === 'xy' ? xyDistance : colorDistance
  return (commanded, reported) => {
    if (commanded.on !== reported.on) return false
    if (!commanded.on) return true
    if (Math.abs(commanded.brightness - reported.brightness) > tolerance.brightness) return false
    if (commanded.colorTemp !== undefined || reported.colorTemp !== undefined) {
      if (commanded.colorTemp === undefined || reported.colorTemp === undefined) return false
      return Math.abs(1e6 / commanded.colorTemp - 1e6 / reported.colorTemp) <= tolerance.mireds
    }
    if (commanded.color && reported.color) return distance(commanded.color, reported.color) <= tolerance.color
    return !commanded.color && !reported.color
  }
}

/** Distance of two colours on the hue/saturation disc (0–2). */
export function colorDistance(a: Rgb, b: Rgb): number {
  const pa = discPoint(a)
  const pb = discPoint(b)
  return Math.hypot(pa.x - pb.x, pa.y - pb.y)
}

/** Distance of two colours in CIE xy, each clipped to Hue's gamut C as genlock sends them to Zigbee lights. */
export function xyDistance(a: Rgb, b: Rgb): number {
  const pa = clipToGamut(rgbToXy(a), HUE_GAMUTS.C)
  const pb = clipToGamut(rgbToXy(b), HUE_GAMUTS.C)
  return Math.hypot(pa.x - pb.x, pa.y - pb.y)
}

/** HSV saturation as the radius and hue as the angle. */
function discPoint({ r, g, b }: Rgb): { x: number; y: number } {
  const max = Math.max(r, g, b)
  const spread = max - Math.min(r, g, b)
  if (spread === 0) return { x: 0, y: 0 }
  const sector = max === r ? (g - b) / spread : max === g ? 2 + (b - r) / spread : 4 + (r - g) / spread
  const angle = (sector * Math.PI) / 3
  const saturation = spread / max
  return { x: saturation * Math.cos(angle), y: saturation * Math.sin(angle) }
}

/** Colour temperatures a bulb may report, in kelvin: the range device files accept. */
const KELVIN = { min: 1000, max: 40_000 }

/** Whether every field of `reported` is in range (the common case, checked without allocating). */
export function isReportInRange(reported: BulbState): boolean {
  return (
    typeof reported.on === 'boolean' &&
    isNumberWithin(reported.brightness, 0, 100) &&
    (reported.colorTemp === undefined || isNumberWithin(reported.colorTemp, KELVIN.min, KELVIN.max)) &&
    (reported.color === undefined || isRgb(reported.color))
  )
}

/** One field of a report that was out of range, and what was kept instead. */
export interface ReportProblem {
  readonly field: 'on' | 'brightness' | 'color' | 'colorTemp'
  readonly value: unknown
  readonly expected: string
}

/**
 * `reported` with every out-of-range field replaced by `previous`'s (a Zigbee2MQTT `color_temp: -100` would
 * otherwise become -10000 K, reach Home Assistant and make a later `restore` fail), and the problems found.
 * Checks what a command is checked for: on is a boolean, brightness 0–100 %, colour channels 0–255, colour
 * temperature 1000–40000 K.
 */
export function checkReportedState(
  reported: BulbState,
  previous: BulbState,
): { readonly state: BulbState; readonly problems: readonly ReportProblem[] } {
  const problems: ReportProblem[] = []
  const on = typeof reported.on === 'boolean' ? reported.on : previous.on
  if (on !== reported.on) problems.push({ field: 'on', value: reported.on, expected: 'true or false' })
  const brightnessOk = isNumberWithin(reported.brightness, 0, 100)
  if (!brightnessOk) problems.push({ field: 'brightness', value: reported.brightness, expected: '0–100 %' })
  let look: Pick<BulbState, 'color' | 'colorTemp'> = { color: reported.color, colorTemp: reported.colorTemp }
  if (reported.colorTemp !== undefined && !isNumberWithin(reported.colorTemp, KELVIN.min, KELVIN.max)) {
    problems.push({ field: 'colorTemp', value: reported.colorTemp, expected: `${KELVIN.min}–${KELVIN.max} K` })
    look = { color: previous.color, colorTemp: previous.colorTemp }
  } else if (reported.color !== undefined && !isRgb(reported.color)) {
    problems.push({ field: 'color', value: reported.color, expected: 'r, g and b each 0–255' })
    look = { color: previous.color, colorTemp: previous.colorTemp }
  }
  if (problems.length === 0) return { state: reported, problems }
  const state: { -readonly [K in keyof BulbState]: BulbState[K] } = {
    on,
    brightness: brightnessOk ? reported.brightness : previous.brightness,
    reachable: reported.reachable,
  }
  if (look.color) state.color = look.color
  else if (look.colorTemp !== undefined) state.colorTemp = look.colorTemp
  return { state, problems }
}

function isNumberWithin(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max
}

function isRgb(color: Rgb): boolean {
  return isNumberWithin(color.r, 0, 255) && isNumberWithin(color.g, 0, 255) && isNumberWithin(color.b, 0, 255)
}

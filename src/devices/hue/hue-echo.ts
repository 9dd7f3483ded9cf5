import type { BulbState } from '../bulb.js'
import { clipToGamut, kelvinToMireds, rgbToXy } from '../color.js'
import { kelvinToLampMirek, type HueLamp } from './clip-v2.js'

/**
 * How far a colour a Hue lamp reports may be from the one we asked for and still be our own: we send xy to 4
 * decimals, the bridge reports xy, and our state holds that xy as 8-bit RGB, whose rounding moves xy by up to
 * about 0.004; 0.01 is well above that and well below a colour anyone would choose on purpose (a Hue app swatch
 * step is ~0.03).
 */
const XY_TOLERANCE = 0.01

/**
 * Whether `reported` (from the event stream, or a read) is what `commanded` looks like once a Hue bridge has
 * carried it out — genlock's own command echoed back, not a change made in the app or at a switch. Allows for
 * what the bridge does to a command: a colour clipped to the lamp's gamut, kelvin turned into whole mirek inside
 * the lamp's range (and back), percent brightness kept to two decimals. Pure, with the shape of the bulb layer's
 * echo matcher once `lamp` is bound, so the shared outside-change check (contract 4) can call it.
 *
 * @example isHueEcho({ on: true, brightness: 50, colorTemp: 2700, reachable: true }, reportedState, lamp)
 */
export function isHueEcho(commanded: BulbState, reported: BulbState, lamp: HueLamp): boolean {
  if (commanded.on !== reported.on) return false
  // An off lamp's look cannot be seen (and a bridge keeps reporting the last one): off matches off.
  if (!commanded.on) return true
  if (Math.abs(commanded.brightness - reported.brightness) > 1) return false
  if (commanded.colorTemp !== undefined) {
    if (reported.colorTemp === undefined) return false
    return Math.abs(kelvinToLampMirek(commanded.colorTemp, lamp) - kelvinToMireds(reported.colorTemp)) <= 1
  }
  if (commanded.color) {
    if (!reported.color) return false
    const asked = clipToGamut(rgbToXy(commanded.color), lamp.gamut)
    const shown = rgbToXy(reported.color)
    return Math.hypot(asked.x - shown.x, asked.y - shown.y) <= XY_TOLERANCE
  }
  return true
}

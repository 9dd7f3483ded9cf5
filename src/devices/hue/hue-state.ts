/** Our bulb state ⇄ the Hue bridge's light state (`on`, `bri`, `xy`, `ct`, `transitiontime`). */
import type { BulbState } from '../bulb.js'
import {
  clipToGamut,
  hueSaturationToRgb,
  kelvinToMireds,
  miredsToKelvin,
  rgbToXy,
  roundXy,
  xyToRgb,
  type Gamut,
} from '../color.js'
import type { ResolvedCommand } from '../resolve-command.js'

/** The body of `PUT /api/<user>/lights/<id>/state`, as far as we use it. */
export interface HueLightStateBody {
  on?: boolean
  /** 1–254. */
  bri?: number
  /** CIE xy, inside the lamp's gamut. */
  xy?: [number, number]
  /** Mireds, 153–500. */
  ct?: number
  /** Tenths of a second. */
  transitiontime?: number
}

/** What the bridge reports as a light's `state`. */
export interface HueLightStateReport {
  on?: boolean
  bri?: number
  hue?: number
  sat?: number
  xy?: [number, number]
  ct?: number
  colormode?: 'hs' | 'xy' | 'ct'
  reachable?: boolean
}

/** Hue's mired range for `ct` (6500 K … 2000 K). */
export const HUE_CT_RANGE = { min: 153, max: 500 } as const

/** Percent (1–100) to Hue `bri` (1–254). */
export function percentToBri(percent: number): number {
  return Math.min(254, Math.max(1, Math.round((percent * 254) / 100)))
}

export function briToPercent(bri: number): number {
  return Math.min(100, Math.max(1, Math.round((bri * 100) / 254)))
}

/** The light-state body for a resolved command; colours are clipped to the lamp's gamut. */
export function toHueLightState(command: ResolvedCommand, gamut: Gamut): HueLightStateBody {
  const body: HueLightStateBody = {}
  if (command.on !== undefined) body.on = command.on
  if (command.brightness !== undefined) body.bri = percentToBri(command.brightness)
  if (command.color) {
    const xy = roundXy(clipToGamut(rgbToXy(command.color), gamut))
    body.xy = [xy.x, xy.y]
  }
  if (command.colorTemp !== undefined) {
    body.ct = Math.min(HUE_CT_RANGE.max, Math.max(HUE_CT_RANGE.min, kelvinToMireds(command.colorTemp)))
  }
  if (command.transition !== undefined) body.transitiontime = Math.round(command.transition / 100)
  return body
}

/** Our state from the bridge's report of a light. */
export function fromHueLightState(report: HueLightStateReport): BulbState {
  const base = {
    on: report.on ?? false,
    brightness: report.bri === undefined ? 100 : briToPercent(report.bri),
    reachable: report.reachable ?? true,
  }
  if (report.colormode === 'ct' && report.ct !== undefined) return { ...base, colorTemp: miredsToKelvin(report.ct) }
  if (report.colormode === 'hs' && report.hue !== undefined && report.sat !== undefined) {
    return { ...base, color: hueSaturationToRgb((report.hue / 65535) * 360, (report.sat / 254) * 100) }
  }
  if (report.xy) return { ...base, color: xyToRgb({ x: report.xy[0], y: report.xy[1] }) }
  if (report.ct !== undefined) return { ...base, colorTemp: miredsToKelvin(report.ct) }
  return base
}

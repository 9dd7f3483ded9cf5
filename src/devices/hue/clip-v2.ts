/** Our bulb state ⇄ a CLIP v2 `light` resource (`on`, `dimming`, `color.xy`, `color_temperature.mirek`, `dynamics`). */
import type { BulbState } from '../bulb.js'
import {
  clipToGamut,
  kelvinToMireds,
  miredsToKelvin,
  rgbToXy,
  roundXy,
  xyToRgb,
  type Gamut,
  type Xy,
} from '../color.js'
import type { ResolvedCommand } from '../resolve-command.js'

/** A reference to another resource. */
export interface ResourceRef {
  readonly rid: string
  readonly rtype: string
}

/** A CLIP v2 `light` resource, as far as genlock reads it. Event-stream updates carry only what changed. */
export interface V2Light {
  readonly id: string
  readonly id_v1?: string
  readonly owner?: ResourceRef
  readonly type: 'light'
  readonly on?: { readonly on: boolean }
  /** Brightness in percent (the lamp's minimum dim level up to 100). */
  readonly dimming?: { readonly brightness: number }
  readonly color_temperature?: {
    readonly mirek: number | null
    readonly mirek_valid?: boolean
    readonly mirek_schema?: { readonly mirek_minimum: number; readonly mirek_maximum: number }
  }
  readonly color?: { readonly xy: Xy; readonly gamut?: Gamut; readonly gamut_type?: string }
}

/** A CLIP v2 `zigbee_connectivity` resource: whether the lamp's device answers the bridge. */
export interface V2Connectivity {
  readonly id: string
  readonly owner?: ResourceRef
  readonly type: 'zigbee_connectivity'
  readonly status?: 'connected' | 'disconnected' | 'connectivity_issue' | 'unidirectional_incoming'
}

/** The body of `PUT /clip/v2/resource/light/<id>`. */
export interface V2LightBody {
  on?: { on: boolean }
  dimming?: { brightness: number }
  color?: { xy: Xy }
  color_temperature?: { mirek: number }
  /** Transition time in ms. */
  dynamics?: { duration: number }
}

/** What a lamp can show, from its v2 resource: its gamut and white range. */
export interface HueLamp {
  readonly gamut: Gamut
  /** Mirek range (`mirek_schema`); 153–500 when the bridge does not say. */
  readonly mirek: { readonly min: number; readonly max: number }
}

/** Hue's own mirek range for lamps that do not report one (6500 K … 2000 K). */
export const DEFAULT_MIREK = { min: 153, max: 500 } as const

/** The lamp's gamut and white range as the bridge reports them, or `fallback` where it does not. */
export function lampOf(light: V2Light, fallback: Gamut): HueLamp {
  const schema = light.color_temperature?.mirek_schema
  return {
    gamut: light.color?.gamut ?? fallback,
    mirek: schema ? { min: schema.mirek_minimum, max: schema.mirek_maximum } : DEFAULT_MIREK,
  }
}

/** A colour temperature in the lamp's own mirek range (the bridge refuses values outside it). */
export function kelvinToLampMirek(kelvin: number, lamp: HueLamp): number {
  return Math.min(lamp.mirek.max, Math.max(lamp.mirek.min, kelvinToMireds(kelvin)))
}

/** The v2 body for a resolved command: colours clipped to the lamp's gamut, whites in its mirek range. */
export function toV2LightBody(command: ResolvedCommand, lamp: HueLamp): V2LightBody {
  const body: V2LightBody = {}
  if (command.on !== undefined) body.on = { on: command.on }
  if (command.brightness !== undefined) body.dimming = { brightness: command.brightness }
  if (command.color) body.color = { xy: roundXy(clipToGamut(rgbToXy(command.color), lamp.gamut)) }
  if (command.colorTemp !== undefined) body.color_temperature = { mirek: kelvinToLampMirek(command.colorTemp, lamp) }
  if (command.transition !== undefined) body.dynamics = { duration: command.transition }
  return body
}

/** Our state from a (complete) v2 light and whether its device is connected. */
export function fromV2Light(light: V2Light, reachable: boolean): BulbState {
  const base = {
    on: light.on?.on ?? false,
    // v2 keeps two decimals and may report 0.39 % for the dimmest level; we speak whole percent, 1–100.
    brightness: light.dimming ? Math.min(100, Math.max(1, Math.round(light.dimming.brightness))) : 100,
    reachable,
  }
  const ct = light.color_temperature
  if (ct?.mirek != null && ct.mirek_valid !== false) return { ...base, colorTemp: miredsToKelvin(ct.mirek) }
  if (light.color) return { ...base, color: xyToRgb(light.color.xy) }
  return base
}

/** `update` applied to `light`: the event stream sends only the attributes that changed. */
export function mergeV2Light(light: V2Light, update: Partial<V2Light>): V2Light {
  const merged = { ...light, ...update }
  if (update.color && light.color) merged.color = { ...light.color, ...update.color }
  if (update.color_temperature && light.color_temperature)
    merged.color_temperature = { ...light.color_temperature, ...update.color_temperature }
  return merged
}

/** The v2 id of the light a device file names: a v2 id as is, a v1 number through the lights' `id_v1`. */
export function findV2Light(lights: readonly V2Light[], light: number | string): V2Light | undefined {
  const v1 = typeof light === 'number' || /^\d+$/.test(light) ? `/lights/${Number(light)}` : undefined
  return lights.find((candidate) => (v1 ? candidate.id_v1 === v1 : candidate.id === light))
}

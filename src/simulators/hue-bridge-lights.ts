/**
 * The lights of a simulated Hue bridge: one state per lamp, shown as CLIP v1 (`/api/<key>/lights`) and as CLIP v2
 * (`/clip/v2/resource/light`, `zigbee_connectivity`) resources, and changed through either API. Shapes follow the
 * Hue developer documentation; values a real bridge reports but genlock never reads are left out.
 */
import { createHash } from 'node:crypto'

const GAMUT_C = { red: { x: 0.6915, y: 0.3083 }, green: { x: 0.17, y: 0.7 }, blue: { x: 0.1532, y: 0.0475 } }

/** What a change to a light may set, in CLIP v2 units (brightness in percent, colour temperature in mirek). */
export interface LightChange {
  on?: boolean
  brightness?: number
  xy?: { x: number; y: number }
  mirek?: number
}

/** A v2 resource as the bridge serves it. */
export type Resource = Record<string, unknown> & { id: string; type: string }

/** A uuid-shaped id that stays the same for the same bridge and name, so device files survive a restart. */
function stableId(bridgeId: string, name: string): string {
  const hex = createHash('sha256').update(`${bridgeId}/${name}`).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

const round4 = (value: number) => Math.round(value * 10_000) / 10_000

/** One lamp: odd numbers are colour lamps (gamut C), even ones white-ambiance lamps, as a bridge lists them. */
export class SimulatedLight {
  readonly id: string
  readonly deviceId: string
  readonly connectivityId: string
  readonly name: string
  readonly color: boolean
  readonly mirekRange: { readonly min: number; readonly max: number }
  on = false
  /** Percent, as CLIP v2 has it. */
  brightness = 100
  mode: 'xy' | 'ct' = 'ct'
  xy = { x: 0.4573, y: 0.41 }
  mirek = 366
  connected = true

  constructor(
    readonly number: number,
    bridgeId: string,
  ) {
    this.id = stableId(bridgeId, `light/${number}`)
    this.deviceId = stableId(bridgeId, `device/${number}`)
    this.connectivityId = stableId(bridgeId, `zigbee_connectivity/${number}`)
    this.color = number % 2 === 1
    this.name = this.color ? `Hue color lamp ${number}` : `Hue ambiance lamp ${number}`
    this.mirekRange = this.color ? { min: 153, max: 500 } : { min: 153, max: 454 }
  }

  /** Applies `change` (already checked); returns whether anything a client can see changed. */
  apply(change: LightChange): boolean {
    const before = JSON.stringify(this.v2())
    if (change.on !== undefined) this.on = change.on
    // The bridge keeps brightness to two decimals and never below the lamp's minimum dim level.
    if (change.brightness !== undefined) this.brightness = Math.max(0.2, Math.round(change.brightness * 100) / 100)
    if (change.xy && this.color) {
      this.xy = { x: round4(change.xy.x), y: round4(change.xy.y) }
      this.mode = 'xy'
    }
    if (change.mirek !== undefined) {
      this.mirek = Math.min(this.mirekRange.max, Math.max(this.mirekRange.min, Math.round(change.mirek)))
      this.mode = 'ct'
    }
    return JSON.stringify(this.v2()) !== before
  }

  /** The CLIP v1 `state` object. */
  v1State(): Record<string, unknown> {
    const bri = Math.min(254, Math.max(1, Math.round((this.brightness * 254) / 100)))
    const common = { on: this.on, bri, alert: 'none', mode: 'homeautomation', reachable: this.connected }
    if (!this.color) return { ...common, ct: this.mirek, colormode: 'ct' }
    return { ...common, xy: [this.xy.x, this.xy.y], ct: this.mirek, effect: 'none', colormode: this.mode }
  }

  /** The CLIP v1 light record. */
  v1(): Record<string, unknown> {
    const uniqueid = `00:17:88:01:00:00:00:${this.number.toString(16).padStart(2, '0')}-0b`
    const common = {
      state: this.v1State(),
      manufacturername: 'Signify Netherlands B.V.',
      uniqueid,
      swversion: '1.50.2_r30933',
      name: this.name,
    }
    if (!this.color) {
      return {
        ...common,
        type: 'Color temperature light',
        modelid: 'LTW001',
        productname: 'Hue ambiance lamp',
        capabilities: { certified: true, control: { mindimlevel: 1000, maxlumen: 806, ct: { min: 153, max: 454 } } },
      }
    }
    const { red, green, blue } = GAMUT_C
    return {
      ...common,
      type: 'Extended color light',
      modelid: 'LCT015',
      productname: 'Hue color lamp',
      capabilities: {
        certified: true,
        control: {
          mindimlevel: 1000,
          maxlumen: 806,
          colorgamuttype: 'C',
          colorgamut: [
            [red.x, red.y],
            [green.x, green.y],
            [blue.x, blue.y],
          ],
          ct: { min: 153, max: 500 },
        },
      },
    }
  }

  /** The CLIP v2 `light` resource. */
  v2(): Resource {
    return {
      id: this.id,
      id_v1: `/lights/${this.number}`,
      owner: { rid: this.deviceId, rtype: 'device' },
      metadata: { name: this.name, archetype: 'sultan_bulb' },
      on: { on: this.on },
      dimming: { brightness: this.brightness, min_dim_level: 0.2 },
      color_temperature: {
        mirek: this.mode === 'ct' ? this.mirek : null,
        mirek_valid: this.mode === 'ct',
        mirek_schema: { mirek_minimum: this.mirekRange.min, mirek_maximum: this.mirekRange.max },
      },
      ...(this.color ? { color: { xy: { ...this.xy }, gamut: GAMUT_C, gamut_type: 'C' } } : {}),
      dynamics: { status: 'none', status_values: ['none'], speed: 0, speed_valid: false },
      mode: 'normal',
      type: 'light',
    }
  }

  /** The CLIP v2 `zigbee_connectivity` resource of the lamp's device. */
  connectivity(): Resource {
    return {
      id: this.connectivityId,
      id_v1: `/lights/${this.number}`,
      owner: { rid: this.deviceId, rtype: 'device' },
      status: this.connected ? 'connected' : 'connectivity_issue',
      mac_address: `00:17:88:01:00:00:00:${this.number.toString(16).padStart(2, '0')}`,
      type: 'zigbee_connectivity',
    }
  }
}

/**
 * A CLIP v1 `PUT …/lights/<n>/state` body as a change, or the parameter it cannot take. `bri` is 1–254, `ct` mirek.
 */
export function v1Change(body: Record<string, unknown>): LightChange | { invalid: string } {
  const change: LightChange = {}
  for (const [key, value] of Object.entries(body)) {
    if (key === 'on' && typeof value === 'boolean') change.on = value
    else if (key === 'bri' && typeof value === 'number' && value >= 1 && value <= 254)
      change.brightness = (value * 100) / 254
    else if (key === 'ct' && typeof value === 'number' && value >= 153 && value <= 500) change.mirek = value
    else if (key === 'xy' && Array.isArray(value) && value.length === 2 && value.every((n) => typeof n === 'number'))
      change.xy = { x: value[0] as number, y: value[1] as number }
    else if (key === 'transitiontime' && typeof value === 'number' && value >= 0) continue
    else return { invalid: key }
  }
  return change
}

/** A CLIP v2 `PUT /clip/v2/resource/light/<id>` body as a change, or what is wrong with it. */
export function v2Change(body: Record<string, unknown>, light: SimulatedLight): LightChange | { invalid: string } {
  const change: LightChange = {}
  const object = (value: unknown) =>
    value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined
  const number = (value: unknown, min: number, max: number) =>
    typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max ? value : undefined
  for (const [key, value] of Object.entries(body)) {
    const field = object(value)
    if (key === 'on' && typeof field?.on === 'boolean') change.on = field.on
    else if (key === 'dimming' && number(field?.brightness, 0, 100) !== undefined)
      change.brightness = field!.brightness as number
    else if (key === 'color_temperature' && Number.isInteger(number(field?.mirek, 153, 500)))
      change.mirek = field!.mirek as number
    else if (key === 'color' && light.color) {
      const xy = object(field?.xy)
      const x = number(xy?.x, 0, 1)
      const y = number(xy?.y, 0, 1)
      if (x === undefined || y === undefined) return { invalid: 'color.xy' }
      change.xy = { x, y }
    } else if (key === 'dynamics' && number(field?.duration, 0, 6_000_000) !== undefined) continue
    else return { invalid: key }
  }
  return change
}

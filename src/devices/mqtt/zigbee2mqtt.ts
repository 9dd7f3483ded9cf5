import type { BulbState } from '../bulb.js'
import {
  clipToGamut,
  HUE_GAMUTS,
  kelvinToMireds,
  miredsToKelvin,
  rgbToXy,
  roundXy,
  xyToRgb,
  hueSaturationToRgb,
} from '../color.js'
import type { ResolvedCommand } from '../resolve-command.js'
import { finiteNumber, parseJsonObject, type MqttLightProtocol, type OutgoingMessage } from './light-protocol.js'

/** Percent (1–100) ⇄ Zigbee brightness (0–254). */
export function percentToZigbee(percent: number): number {
  return Math.min(254, Math.max(1, Math.round((percent * 254) / 100)))
}

/**
 * Not clamped: a level outside 0–254 becomes a percentage outside 0–100, which the bulb layer drops with a warning
 * instead of silently believing 100 %.
 */
export function zigbeeToPercent(level: number): number {
  return Math.round((level * 100) / 254)
}

/**
 * A Zigbee2MQTT JSON light at `topic` (e.g. `zigbee2mqtt/bath_bulb`): commands go to `<topic>/set` as
 * `{ state, brightness (0–254), color {x,y} | {r,g,b}, color_temp (mireds), transition (s) }`; state comes
 * from `<topic>`; availability from `<topic>/availability` (`online`/`offline`, plain or `{"state": …}`).
 */
export function zigbee2mqttProtocol(topic: string, colorFormat: 'xy' | 'rgb' = 'xy'): MqttLightProtocol {
  return {
    stateTopics: [topic],
    // Lights re-round brightness to their 254 levels (±1 %) and colour temperature to whole mireds; a light with a
    // narrower gamut than C moves a deep blue by up to 0.035 in xy, while red to orange is 0.18.
    echo: { brightness: 1, mireds: 2, color: 0.04, colorSpace: 'xy' },
    availabilityTopic: `${topic}/availability`,
    encode(command: ResolvedCommand): OutgoingMessage[] {
      const body: Record<string, unknown> = {}
      if (command.on !== undefined) body.state = command.on ? 'ON' : 'OFF'
      if (command.brightness !== undefined) body.brightness = percentToZigbee(command.brightness)
      if (command.color) {
        // Zigbee colour lights take any xy and clip it themselves; gamut C is the widest common one.
        body.color =
          colorFormat === 'rgb' ? { ...command.color } : roundXy(clipToGamut(rgbToXy(command.color), HUE_GAMUTS.C))
      }
      if (command.colorTemp !== undefined) body.color_temp = kelvinToMireds(command.colorTemp)
      if (command.transition !== undefined) body.transition = command.transition / 1000
      return [{ topic: `${topic}/set`, payload: JSON.stringify(body) }]
    },
    statusRequest(): OutgoingMessage[] {
      return [{ topic: `${topic}/get`, payload: JSON.stringify({ state: '' }) }]
    },
    decodeState(_topic: string, payload: Buffer, previous: BulbState): BulbState | undefined {
      const report = parseJsonObject(payload)
      if (!report || (report.state !== 'ON' && report.state !== 'OFF')) return undefined
      const level = finiteNumber(report.brightness)
      // Levels 0–1 round to 0 %, which is "off" in genlock's terms; the light says ON, so it is the dimmest on.
      const percent = level === undefined ? previous.brightness : zigbeeToPercent(level) || 1
      const next = {
        on: report.state === 'ON',
        brightness: percent,
        reachable: true,
      }
      const mireds = finiteNumber(report.color_temp)
      const color = report.color as Record<string, unknown> | undefined
      const mode = report.color_mode
      if (mode === 'color_temp' && mireds) return { ...next, colorTemp: miredsToKelvin(mireds) }
      if (color && typeof color === 'object') {
        const x = finiteNumber(color.x)
        const y = finiteNumber(color.y)
        const hue = finiteNumber(color.hue)
        const saturation = finiteNumber(color.saturation)
        if (mode === 'hs' && hue !== undefined && saturation !== undefined) {
          return { ...next, color: hueSaturationToRgb(hue, saturation) }
        }
        if (x !== undefined && y !== undefined) return { ...next, color: xyToRgb({ x, y }) }
        const r = finiteNumber(color.r)
        const g = finiteNumber(color.g)
        const b = finiteNumber(color.b)
        if (r !== undefined && g !== undefined && b !== undefined) return { ...next, color: { r, g, b } }
      }
      if (mireds) return { ...next, colorTemp: miredsToKelvin(mireds) }
      if (previous.color) return { ...next, color: previous.color }
      if (previous.colorTemp !== undefined) return { ...next, colorTemp: previous.colorTemp }
      return next
    },
    decodeAvailability(payload: Buffer): boolean | undefined {
      const text = payload.toString('utf8').trim()
      const value = text.startsWith('{') ? parseJsonObject(payload)?.state : text
      if (value === 'online') return true
      if (value === 'offline') return false
      return undefined
    },
  }
}

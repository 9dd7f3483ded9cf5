import type { BulbState } from '../bulb.js'
import { kelvinToMireds, miredsToKelvin } from '../color.js'
import type { ResolvedCommand } from '../resolve-command.js'
import { finiteNumber, parseJsonObject, type MqttLightProtocol, type OutgoingMessage } from './light-protocol.js'

/** Tasmota `Speed` is 1–40 in half seconds. */
function fadeSpeed(ms: number): number {
  return Math.min(40, Math.max(1, Math.round(ms / 500)))
}

/**
 * A Tasmota light named `name` (its `%topic%`): commands go to `cmnd/<name>/Backlog` (`Fade`, `Speed`,
 * `Color r,g,b`, `CT <mireds>`, `Dimmer`, `Power`), state comes from `stat/<name>/RESULT` and
 * `tele/<name>/STATE`, availability from `tele/<name>/LWT` (`Online`/`Offline`).
 */
export function tasmotaProtocol(name: string): MqttLightProtocol {
  return {
    stateTopics: [`stat/${name}/RESULT`, `tele/${name}/STATE`],
    // Tasmota reports Color scaled by Dimmer: at 10 % a channel has about 25 steps, so hue/saturation wobble by ~0.04.
    // CT is whole mireds (153–500); Dimmer whole percent.
    echo: { brightness: 1, mireds: 2, color: 0.05 },
    availabilityTopic: `tele/${name}/LWT`,
    encode(command: ResolvedCommand): OutgoingMessage[] {
      const steps: string[] = []
      if (command.transition !== undefined) {
        steps.push(command.transition > 0 ? `Fade 1; Speed ${fadeSpeed(command.transition)}` : 'Fade 0')
      }
      if (command.color) steps.push(`Color ${command.color.r},${command.color.g},${command.color.b}`)
      if (command.colorTemp !== undefined)
        steps.push(`CT ${Math.min(500, Math.max(153, kelvinToMireds(command.colorTemp)))}`)
      if (command.brightness !== undefined) steps.push(`Dimmer ${command.brightness}`)
      if (command.on !== undefined) steps.push(`Power ${command.on ? 'ON' : 'OFF'}`)
      return [{ topic: `cmnd/${name}/Backlog`, payload: steps.join('; ') }]
    },
    statusRequest(): OutgoingMessage[] {
      return [{ topic: `cmnd/${name}/State`, payload: '' }]
    },
    decodeState(_topic: string, payload: Buffer, previous: BulbState): BulbState | undefined {
      const report = parseJsonObject(payload)
      const power = report?.POWER
      if (!report || (power !== 'ON' && power !== 'OFF')) return undefined
      const dimmer = finiteNumber(report.Dimmer)
      const next = { on: power === 'ON', brightness: dimmer ? dimmer : previous.brightness, reachable: true }
      const hex = typeof report.Color === 'string' ? report.Color : ''
      const mireds = finiteNumber(report.CT)
      // RGBCCT lights report five channels; all-zero RGB with white channels on means white (CT) mode.
      const rgbPart = /^[0-9A-Fa-f]{6}/.test(hex) ? hex.slice(0, 6) : undefined
      if (rgbPart && rgbPart !== '000000') {
        const value = Number.parseInt(rgbPart, 16)
        return { ...next, color: { r: (value >> 16) & 255, g: (value >> 8) & 255, b: value & 255 } }
      }
      if (mireds) return { ...next, colorTemp: miredsToKelvin(mireds) }
      return previous.color ? { ...next, color: previous.color } : next
    },
    decodeAvailability(payload: Buffer): boolean | undefined {
      const text = payload.toString('utf8').trim()
      if (text === 'Online') return true
      if (text === 'Offline') return false
      return undefined
    },
  }
}

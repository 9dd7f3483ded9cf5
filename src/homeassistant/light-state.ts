/**
 * Home Assistant's MQTT JSON light schema, both ways: a bulb's state as HA reads it, and HA's light commands as
 * genlock bulb commands. Brightness is 0–100 on both sides (the discovery config sets `brightness_scale: 100`);
 * colour temperature is in kelvin (`color_temp_kelvin: true`).
 */
import type { BulbCapabilities, BulbCommand, BulbState } from '../devices/bulb.js'
import { kelvinToRgb } from '../devices/color.js'

/** The HA colour modes a bulb supports. HA allows `onoff` and `brightness` only on their own. */
export type ColorMode = 'onoff' | 'brightness' | 'color_temp' | 'rgb'

/**
 * The `supported_color_modes` of a bulb.
 *
 * @example
 * supportedColorModes({ dimmable: true, color: true, colorTemp: { min: 2000, max: 6500 } }) // ['color_temp', 'rgb']
 */
export function supportedColorModes(capabilities: BulbCapabilities): ColorMode[] {
  const modes: ColorMode[] = []
  if (capabilities.colorTemp) modes.push('color_temp')
  if (capabilities.color) modes.push('rgb')
  if (modes.length > 0) return modes
  return [capabilities.dimmable ? 'brightness' : 'onoff']
}

/** What genlock publishes on a light's state topic, in HA's JSON schema. */
export interface LightStatePayload {
  readonly state: 'ON' | 'OFF'
  readonly brightness?: number
  readonly color_mode?: ColorMode
  readonly color?: { readonly r: number; readonly g: number; readonly b: number }
  readonly color_temp?: number
}

/** A bulb's state as Home Assistant's JSON light schema reads it. */
export function lightStatePayload(state: BulbState, capabilities: BulbCapabilities): LightStatePayload {
  const modes = supportedColorModes(capabilities)
  const base = { state: state.on ? ('ON' as const) : ('OFF' as const) }
  if (modes.includes('rgb') && state.color) {
    return { ...base, brightness: state.brightness, color_mode: 'rgb', color: state.color }
  }
  if (modes.includes('color_temp') && state.colorTemp !== undefined) {
    return { ...base, brightness: state.brightness, color_mode: 'color_temp', color_temp: state.colorTemp }
  }
  if (modes.includes('rgb') && state.colorTemp !== undefined) {
    // A colour-only bulb told a white: HA can only show it as the matching colour.
    return { ...base, brightness: state.brightness, color_mode: 'rgb', color: kelvinToRgb(state.colorTemp) }
  }
  if (modes[0] === 'onoff') return { ...base, color_mode: 'onoff' }
  if (modes[0] === 'brightness') return { ...base, brightness: state.brightness, color_mode: 'brightness' }
  return { ...base, brightness: state.brightness }
}

/** A light command from Home Assistant that cannot be understood; the message names the field. */
export class LightCommandError extends Error {
  override readonly name = 'LightCommandError'
}

/**
 * Turns a JSON-schema light command from Home Assistant into a bulb command. Throws a LightCommandError naming
 * the field for anything malformed. `flash` and `effect` are not supported and are reported in `ignored`.
 *
 * @example
 * parseLightCommand('{"state":"ON","brightness":30,"color_temp":2700,"transition":2}')
 * // { command: { on: true, brightness: 30, colorTemp: 2700, transition: 2000 }, ignored: [] }
 */
export function parseLightCommand(payload: string): { command: BulbCommand; ignored: string[] } {
  let body: unknown
  try {
    body = JSON.parse(payload)
  } catch {
    throw new LightCommandError(`payload is not JSON: ${JSON.stringify(payload.slice(0, 60))}`)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new LightCommandError('payload must be a JSON object like {"state":"ON","brightness":50}')
  }
  const fields = body as Record<string, unknown>
  const command: { -readonly [K in keyof BulbCommand]: BulbCommand[K] } = {}
  const state = fields['state']
  if (state !== undefined) {
    if (state !== 'ON' && state !== 'OFF')
      throw new LightCommandError(`state must be "ON" or "OFF", got ${show(state)}`)
    command.on = state === 'ON'
  }
  if (fields['brightness'] !== undefined) {
    command.brightness = numberIn(fields, 'brightness', 0, 100)
    if (command.on === undefined) command.on = command.brightness > 0
  }
  if (fields['color_temp'] !== undefined) command.colorTemp = numberIn(fields, 'color_temp', 1000, 40000)
  if (fields['color'] !== undefined) command.color = rgb(fields['color'])
  if (fields['transition'] !== undefined)
    command.transition = Math.round(numberIn(fields, 'transition', 0, 3600) * 1000)
  if ((command.color !== undefined || command.colorTemp !== undefined) && command.on === undefined) command.on = true
  if (command.on === false) {
    // Turning off keeps the colour and brightness the bulb had, as HA expects when it is turned on again.
    delete command.color
    delete command.colorTemp
    delete command.brightness
  }
  if (Object.keys(command).length === 0)
    throw new LightCommandError('payload sets nothing (give state, brightness, color or color_temp)')
  const ignored = ['flash', 'effect', 'white', 'color_mode'].filter((key) => fields[key] !== undefined)
  return { command, ignored }
}

function numberIn(fields: Record<string, unknown>, key: string, min: number, max: number, label = key): number {
  const value = fields[key]
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new LightCommandError(`${label} must be a number in ${min}–${max}, got ${show(value)}`)
  }
  return value
}

function rgb(value: unknown): { r: number; g: number; b: number } {
  if (typeof value !== 'object' || value === null) {
    throw new LightCommandError(`color must be {"r":0-255,"g":0-255,"b":0-255}, got ${show(value)}`)
  }
  const channels = value as Record<string, unknown>
  const channel = (key: 'r' | 'g' | 'b') => Math.round(numberIn(channels, key, 0, 255, `color.${key}`))
  if (!('r' in channels && 'g' in channels && 'b' in channels)) {
    throw new LightCommandError(
      `color must be {"r":0-255,"g":0-255,"b":0-255} (this light's colour mode is rgb), got ${show(value)}`,
    )
  }
  return { r: channel('r'), g: channel('g'), b: channel('b') }
}

function show(value: unknown): string {
  return JSON.stringify(value)?.slice(0, 60) ?? String(value)
}

import type { BulbCapabilities, BulbCommand, BulbState, Rgb } from './bulb.js'
import { ColorParseError, kelvinToRgb, nearestWhite, parseColor } from './color.js'
import { InvalidCommandError, UnsupportedCommandError } from './errors.js'

/**
 * A command checked against the bulb's capabilities and reduced to what adapters send: a colour is RGB (only for
 * colour bulbs), a white is kelvin within the bulb's range, brightness is 1–100 (0 became `on: false`).
 */
export interface ResolvedCommand {
  readonly on?: boolean
  /** 1–100 %. */
  readonly brightness?: number
  readonly color?: Rgb
  /** Kelvin, inside the bulb's range. */
  readonly colorTemp?: number
  /** Fade time in ms. */
  readonly transition?: number
}

/**
 * Checks `command` against `capabilities` and applies the documented fallbacks:
 *
 * - `brightness: 0` means off: it becomes `on: false` (unless `on: true` is given, then brightness 1 %).
 * - A brightness, colour or white with `on` unset turns the bulb on, as Home Assistant's `light.turn_on` and
 *   Zigbee2MQTT do: Hue bridges refuse `bri`/`xy`/`ct` for a bulb that is off, and `set: { color: red }` in an
 *   automation means "show red". Give `on: false` explicitly to change an off bulb's settings where it can.
 * - A bulb that cannot dim ignores `brightness` (a positive brightness still turns it on when `on` is unset).
 * - `color` given as `{ kelvin }` is treated as `colorTemp`.
 * - A white-only bulb asked for a colour shows the **nearest white** in its range: reds and oranges go to the warm
 *   end, blues to the cool end (see {@link nearestWhite}).
 * - A colour bulb without a white channel asked for a temperature shows that white as RGB.
 * - `colorTemp` outside the bulb's range is clamped into it.
 * - A bulb with neither colour nor white temperature asked for either gets an {@link UnsupportedCommandError}.
 *
 * Malformed values (brightness 140, transition -1, unknown colour) throw {@link InvalidCommandError}.
 */
export function resolveCommand(device: string, capabilities: BulbCapabilities, command: BulbCommand): ResolvedCommand {
  const out: { -readonly [K in keyof ResolvedCommand]: ResolvedCommand[K] } = {}
  if (command.on !== undefined) {
    if (typeof command.on !== 'boolean')
      throw new InvalidCommandError(device, `on must be true or false, got ${String(command.on)}`)
    out.on = command.on
  }
  if (command.brightness !== undefined) {
    const value = command.brightness
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
      throw new InvalidCommandError(device, `brightness must be 0–100 %, got ${String(value)}`)
    }
    if (value === 0 && out.on !== true) out.on = false
    else if (capabilities.dimmable) out.brightness = Math.max(1, Math.round(value))
    else if (out.on === undefined) out.on = true
  }
  if (command.transition !== undefined) {
    const value = command.transition
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new InvalidCommandError(device, `transition must be a duration ≥ 0 ms, got ${String(value)}`)
    }
    out.transition = Math.round(value)
  }
  if (command.color !== undefined && command.colorTemp !== undefined) {
    throw new InvalidCommandError(device, 'give either color or colorTemp, not both')
  }
  let kelvin = command.colorTemp
  let rgb: Rgb | undefined
  if (command.color !== undefined) {
    let parsed
    try {
      parsed = parseColor(command.color)
    } catch (error) {
      if (error instanceof ColorParseError) throw new InvalidCommandError(device, error.message)
      throw error
    }
    if (parsed.kind === 'kelvin') kelvin = parsed.kelvin
    else rgb = parsed.rgb
  }
  if (kelvin !== undefined && (typeof kelvin !== 'number' || !Number.isFinite(kelvin) || kelvin <= 0)) {
    throw new InvalidCommandError(device, `colorTemp must be a temperature in kelvin, got ${String(kelvin)}`)
  }
  const range = capabilities.colorTemp
  if (rgb !== undefined) {
    if (capabilities.color) out.color = rgb
    else if (range) out.colorTemp = nearestWhite(rgb, range)
    else throw new UnsupportedCommandError(device, 'cannot show colours (it is dimmable only)')
  } else if (kelvin !== undefined) {
    if (range) out.colorTemp = Math.round(Math.min(range.max, Math.max(range.min, kelvin)))
    else if (capabilities.color) out.color = kelvinToRgb(kelvin)
    else throw new UnsupportedCommandError(device, 'cannot change colour temperature (it is dimmable only)')
  }
  if (out.on === undefined && (out.brightness !== undefined || out.color || out.colorTemp !== undefined)) {
    out.on = true
  }
  return out
}

/** The state a bulb is in after `command` was applied to `previous` (what a bulb that accepted it reports). */
export function applyCommand(previous: BulbState, command: ResolvedCommand): BulbState {
  const next: { -readonly [K in keyof BulbState]: BulbState[K] } = {
    on: command.on ?? previous.on,
    brightness: command.brightness ?? previous.brightness,
    reachable: true,
  }
  if (command.color) next.color = command.color
  else if (command.colorTemp !== undefined) next.colorTemp = command.colorTemp
  else if (previous.color) next.color = previous.color
  else if (previous.colorTemp !== undefined) next.colorTemp = previous.colorTemp
  return next
}

/** Whether two states differ in anything a user could see. */
export function sameState(a: BulbState, b: BulbState): boolean {
  return (
    a.on === b.on &&
    a.brightness === b.brightness &&
    a.reachable === b.reachable &&
    a.colorTemp === b.colorTemp &&
    a.color?.r === b.color?.r &&
    a.color?.g === b.color?.g &&
    a.color?.b === b.color?.b
  )
}

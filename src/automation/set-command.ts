import type { BulbCommand, ColorInput } from '../devices/bulb.js'
import type { SetValues } from './definition.js'
import { parseDuration } from './duration.js'
import { renderTemplate, type ExpressionContext } from './expression.js'

/**
 * Turns a `set` step's values into a BulbCommand, evaluating templates now. Throws a clear error for a value a
 * template produced that makes no sense (the step then fails per the automation's `on_error`).
 */
export function setCommand(values: SetValues, context: ExpressionContext): BulbCommand {
  const render = (value: unknown) => (typeof value === 'string' ? renderTemplate(value, context) : value)
  const command: { -readonly [K in keyof BulbCommand]: BulbCommand[K] } = {}
  if (values.on !== undefined) command.on = toBoolean(render(values.on))
  if (values.brightness !== undefined) command.brightness = toNumber('brightness', render(values.brightness), 0, 100)
  if (values.color !== undefined) command.color = toColor(render(values.color))
  if (values.colorTemp !== undefined) command.colorTemp = toNumber('color_temp', render(values.colorTemp), 1, 100_000)
  if (values.transition !== undefined) {
    const rendered = render(values.transition)
    const ms = parseDuration(
      typeof rendered === 'string' && /^\d+(\.\d+)?$/.test(rendered) ? Number(rendered) : rendered,
    )
    if (ms === undefined) throw new TypeError(`transition: expected a duration, got ${JSON.stringify(rendered)}`)
    command.transition = ms
  }
  return command
}

function toBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value
  const text = String(value).trim().toLowerCase()
  if (['on', 'true', '1', 'yes'].includes(text)) return true
  if (['off', 'false', '0', 'no'].includes(text)) return false
  throw new TypeError(`on: expected true/false or ON/OFF, got ${JSON.stringify(value)}`)
}

function toNumber(field: string, value: unknown, min: number, max: number): number {
  const number =
    typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN
  if (!Number.isFinite(number) || number < min || number > max) {
    throw new RangeError(`${field}: expected a number from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return number
}

function toColor(value: unknown): ColorInput {
  if (typeof value === 'string' && value.trim() !== '') return value.trim()
  if (value !== null && typeof value === 'object') return value as ColorInput
  throw new TypeError(`color: expected a colour name, #hex or {r,g,b}, got ${JSON.stringify(value)}`)
}

import type { BulbCommand, BulbState, ColorInput, CommandOrigin } from '../devices/bulb.js'
import type { SetValues } from './definition.js'
import { parseDuration } from './duration.js'
import type { ExpressionContext, Template } from './expression.js'
import { action } from './step-action.js'
import type { StepCode, StepRuntime } from './step-runtime.js'

/** A `set` step's values compiled: builds the BulbCommand, evaluating templates, when the step runs. */
export type SetCommand = (context: ExpressionContext) => BulbCommand

/**
 * Compiles a `set` step's values; `template` compiles each string value. The command it builds throws a clear
 * error for a value a template produced that makes no sense (the step then fails per the automation's `on_error`).
 */
export function compileSetCommand(values: SetValues, template: (source: string) => Template): SetCommand {
  const compiled = (value: unknown) => {
    if (value === undefined) return undefined
    if (typeof value === 'string') return template(value).render
    return () => value
  }
  const on = compiled(values.on)
  const brightness = compiled(values.brightness)
  const color = compiled(values.color)
  const colorTemp = compiled(values.colorTemp)
  const transition = compiled(values.transition)
  return (context) => {
    const command: { -readonly [K in keyof BulbCommand]: BulbCommand[K] } = {}
    if (on) command.on = toBoolean(on(context))
    if (brightness) command.brightness = toNumber('brightness', brightness(context), 0, 100)
    if (color) command.color = toColor(color(context))
    if (colorTemp) command.colorTemp = toNumber('color_temp', colorTemp(context), 1, 100_000)
    if (transition) command.transition = toDuration(transition(context))
    return command
  }
}

/** The `set` step: one command to each of `devices`, as one yield. */
export function setStep(command: SetCommand, devices: readonly string[], label: string): StepCode {
  return (runtime) =>
    action(runtime, label, () => {
      const built = command(runtime.variables)
      const origin: CommandOrigin = { holder: runtime.automation, token: runtime.ctx.token }
      if (devices.length === 1) return send(runtime, devices[0]!, built, origin)
      return Promise.all(devices.map((id) => send(runtime, id, built, origin)))
    })
}

function send(runtime: StepRuntime, id: string, command: BulbCommand, origin: CommandOrigin): Promise<BulbState> {
  const answer = runtime.commands.track(id, runtime.bulbs.get(id)!.setState(command, origin))
  const looks = runtime.looks
  if (looks) answer.then((state) => looks.set(id, state), ignore)
  if (runtime.events.listening) runtime.reportCommand(id, command, answer)
  return answer
}

function ignore(): void {}

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

function toDuration(rendered: unknown): number {
  const ms = parseDuration(typeof rendered === 'string' && /^\d+(\.\d+)?$/.test(rendered) ? Number(rendered) : rendered)
  if (ms === undefined) throw new TypeError(`transition: expected a duration, got ${JSON.stringify(rendered)}`)
  return ms
}

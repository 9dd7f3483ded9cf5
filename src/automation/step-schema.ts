import { z } from 'zod'
import { condition, deviceIds, duration, publishTopic, template, topicPattern } from './automation-schema.js'
import type { StepKind } from './definition.js'
import { CSS_COLOR_NAMES, parseColor } from '../devices/color.js'
import { checkTemplate, isTemplate } from './expression.js'
import { closest } from './suggest.js'

/**
 * zod schemas for the body of each step kind (the value under its key). Nested step lists are left as raw
 * lists here: the parser reads them as steps in their own right (parse-steps.ts).
 */

const templated = <T extends z.ZodType>(schema: T) =>
  z.union([schema, template.refine(isTemplate, 'expected a value or a {{ template }}')])

const rgb = z.strictObject({
  r: z.number().min(0).max(255),
  g: z.number().min(0).max(255),
  b: z.number().min(0).max(255),
})
const hsv = z.strictObject({
  h: z.number().min(0).max(360),
  s: z.number().min(0).max(100),
  v: z.number().min(0).max(100),
})
const kelvin = z.strictObject({ kelvin: z.number().positive() })

/** A colour written as text: a `{{ template }}` (checked when it runs), or a colour a bulb can be given now. */
const colorText = z.string().superRefine((text: string, ctx) => {
  if (text.includes('{{')) {
    const problem = checkTemplate(text)
    if (problem) ctx.addIssue({ code: 'custom', message: `bad template: ${problem}` })
    return
  }
  try {
    parseColor(text)
  } catch {
    const guess = closest(text.trim(), CSS_COLOR_NAMES)
    ctx.addIssue({
      code: 'custom',
      message:
        `unknown colour '${text}'${guess ? ` (did you mean '${guess}'?)` : ''}: use a CSS colour name like red or ` +
        `orange, hex like '#ff8800', { r, g, b }, { h, s, v } or { kelvin }`,
    })
  }
})

const set = z
  .strictObject({
    device: deviceIds.optional(),
    on: templated(z.boolean()).optional(),
    brightness: templated(z.number().min(0).max(100)).optional(),
    color: z.union([colorText, rgb, hsv, kelvin]).optional(),
    color_temp: templated(z.number().positive()).optional(),
    transition: z.union([template.refine(isTemplate), duration]).optional(),
  })
  .refine((body) => Object.keys(body).some((key) => key !== 'device'), {
    message: 'set needs at least one of on, brightness, color, color_temp, transition',
  })

const repeat = z
  .strictObject({
    count: templated(z.number().int().min(0)).optional(),
    while: condition.optional(),
    until: condition.optional(),
    forever: z.literal(true).optional(),
    steps: z.array(z.unknown()).min(1, 'repeat needs at least one step'),
  })
  .refine((body) => [body.count, body.while, body.until, body.forever].filter((v) => v !== undefined).length === 1, {
    message: 'repeat needs exactly one of count, while, until, forever: true',
  })

const waitFor = z
  .strictObject({
    mqtt: topicPattern.optional(),
    payload: z.union([z.string(), z.number(), z.boolean()]).transform(String).optional(),
    json: z.record(z.string(), z.unknown()).optional(),
    condition: condition.optional(),
    timeout: duration.optional(),
    on_timeout: z.enum(['continue', 'abort']).default('continue'),
  })
  .refine((body) => body.mqtt !== undefined || body.condition !== undefined, {
    message: 'wait_for needs an mqtt topic or a condition',
  })
  .refine((body) => body.mqtt !== undefined || (body.payload === undefined && body.json === undefined), {
    message: 'payload and json need an mqtt topic',
  })

const stepList = z.array(z.unknown()).min(1, 'expected at least one step')

/** The body schema of each step kind; `if` and `choose` also have companion keys beside their own. */
export const stepBodies = {
  set,
  wait: duration,
  repeat,
  wait_for: waitFor,
  if: condition,
  choose: z.array(z.strictObject({ when: condition, steps: stepList })).min(1),
  parallel: z.array(z.strictObject({ device: deviceIds.optional(), steps: stepList })).min(1),
  publish: z.strictObject({
    topic: publishTopic,
    payload: z.unknown().default(''),
    retain: z.boolean().default(false),
    qos: z.union([z.literal(0), z.literal(1)]).default(0),
  }),
  log: z.union([
    template,
    z.strictObject({ message: template, level: z.enum(['debug', 'info', 'warn', 'error']).default('info') }),
  ]),
} satisfies Record<StepKind, z.ZodType>

/** Every step kind, in the order messages list them. */
export const STEP_KINDS = Object.keys(stepBodies) as StepKind[]

/** Keys that go beside a step's own key. */
export const COMPANION_KEYS: Partial<Record<StepKind, readonly string[]>> = {
  if: ['then', 'else'],
  choose: ['default'],
}

import { z } from 'zod'
import { condition, deviceIds, duration, publishTopic, template, topicPattern } from './automation-schema.js'
import type { StepKind } from './definition.js'
import { CSS_COLOR_NAMES, parseColor } from '../devices/color.js'
import { checkTemplate, isTemplate } from './expression.js'
import { closest } from './suggest.js'

/**
 * zod schemas for the body of each step kind (the value under its key). Nested step lists are left as raw
 * lists here: the parser reads them as steps in their own right (parse-steps.ts). `.meta()` documents each for
 * the editor schema (see automation-schema.ts); a raw step list's items are `#/definitions/step` there.
 */

/** A `{{ template }}` where a value is expected: the JSON form says it must contain `{{`, as isTemplate does. */
const TEMPLATE_JSON = {
  type: 'string',
  pattern: '\\{\\{',
  description: 'A {{ template }}, evaluated when the step runs.',
}

const templated = <T extends z.ZodType>(schema: T) =>
  z.union([schema, template.refine(isTemplate, 'expected a value or a {{ template }}').meta(TEMPLATE_JSON)])

const channel = (max: number, description: string, example: number) =>
  z
    .number()
    .min(0)
    .max(max)
    .meta({ description, examples: [example] })
const rgb = z
  .strictObject({
    r: channel(255, 'Red, 0–255.', 255),
    g: channel(255, 'Green, 0–255.', 136),
    b: channel(255, 'Blue, 0–255.', 0),
  })
  .meta({ description: 'A colour as red, green and blue, 0–255 each.', examples: [{ r: 255, g: 136, b: 0 }] })
const hsv = z
  .strictObject({
    h: channel(360, 'Hue in degrees, 0–360.', 30),
    s: channel(100, 'Saturation, 0–100.', 100),
    v: channel(100, 'Value (brightness of the colour), 0–100.', 100),
  })
  .meta({ description: 'A colour as hue, saturation and value.', examples: [{ h: 30, s: 100, v: 100 }] })
const kelvin = z
  .strictObject({
    kelvin: z
      .number()
      .positive()
      .meta({ description: 'White, as a colour temperature in kelvin.', examples: [2700, 6500] }),
  })
  .meta({ description: 'White of a colour temperature.', examples: [{ kelvin: 2700 }] })

const COLOR_NAMES = [...CSS_COLOR_NAMES].sort()
/** A JSON Schema pattern for `words` in any case (parseColor trims and ignores case). */
const anyCaseWords = (words: readonly string[]) =>
  `^\\s*(${words.map((word) => [...word].map((c) => `[${c}${c.toUpperCase()}]`).join('')).join('|')})\\s*$`

/** A colour written as text: a `{{ template }}` (checked when it runs), or a colour a bulb can be given now. */
const colorText = z
  .string()
  .superRefine((text: string, ctx) => {
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
  .meta({
    description:
      "A CSS colour: a name (red, orange), hex ('#ff8800'), a CSS function (hsl(30 100% 50%)) or a template.",
    examples: ['red', '#ff8800', 'hsl(30 100% 50%)', '{{ trigger.json.color }}'],
    anyOf: [
      { type: 'string', enum: COLOR_NAMES, description: 'A CSS colour name.' },
      { type: 'string', pattern: anyCaseWords(COLOR_NAMES), description: 'A CSS colour name, in any case.' },
      {
        type: 'string',
        pattern: '^\\s*#?([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})\\s*$',
        description: 'Hex: #rgb, #rrggbb.',
      },
      {
        type: 'string',
        pattern: '^\\s*[a-zA-Z][a-zA-Z0-9-]*\\(.*\\)\\s*$',
        description: 'A CSS colour function: rgb(), hsl(), oklch()...',
      },
      TEMPLATE_JSON,
    ],
  })

const set = z
  .strictObject({
    device: deviceIds.optional().meta({
      description: "The bulb or bulbs to set (among the automation's devices); default: all of them.",
      examples: ['hall_bulb', ['hall_bulb', 'kitchen_strip']],
    }),
    on: templated(z.boolean())
      .optional()
      .meta({ description: 'Turn the bulbs on (true) or off (false).', examples: [true, false] }),
    brightness: templated(z.number().min(0).max(100))
      .optional()
      .meta({
        description: 'Brightness in percent, 0–100 (0 is off), or a template.',
        examples: [80, '{{ repeat.index * 5 }}'],
      }),
    color: z
      .union([colorText, rgb, hsv, kelvin])
      .optional()
      .meta({
        description: 'The colour: a CSS name or hex, { r, g, b }, { h, s, v }, { kelvin }, or a template.',
        examples: ['red', '#ff9329', { r: 255, g: 147, b: 41 }, { h: 30, s: 100, v: 100 }, { kelvin: 2700 }],
      }),
    color_temp: templated(z.number().positive())
      .optional()
      .meta({ description: 'White, as a colour temperature in kelvin, or a template.', examples: [2700, 6500] }),
    transition: z
      .union([template.refine(isTemplate).meta(TEMPLATE_JSON), duration])
      .optional()
      .meta({
        description: 'How long the bulb takes to get there: a duration, or a template.',
        examples: ['1s', '1m'],
      }),
  })
  .refine((body) => Object.keys(body).some((key) => key !== 'device'), {
    message: 'set needs at least one of on, brightness, color, color_temp, transition',
  })
  .meta({
    description: 'Set the bulbs: on, brightness, color, color_temp, transition (at least one).',
    examples: [
      { color: 'red', brightness: 80 },
      { device: 'hall_bulb', on: false, transition: '3s' },
    ],
    anyOf: ['on', 'brightness', 'color', 'color_temp', 'transition'].map((key) => ({ required: [key] })),
  })

/** A raw step list: the editor schema reads each item as a step. */
const rawSteps = (message: string, description: string) =>
  z
    .array(z.unknown())
    .min(1, message)
    .meta({
      description,
      examples: [[{ set: { on: true } }, { wait: '1s' }]],
      items: { $ref: '#/definitions/step' },
    })

const repeat = z
  .strictObject({
    count: templated(z.number().int().min(0))
      .optional()
      .meta({ description: 'Run the steps this many times (a number or a template).', examples: [3, 20] }),
    while: condition.optional().meta({
      description: 'Run the steps as long as this condition holds (checked before each round).',
      examples: ['device.hall_bulb.on'],
    }),
    until: condition.optional().meta({
      description: 'Run the steps until this condition holds (checked after each round).',
      examples: ['repeat.index >= 10'],
    }),
    forever: z
      .literal(true)
      .optional()
      .meta({ description: 'Run the steps until the automation is stopped.', examples: [true] }),
    steps: rawSteps('repeat needs at least one step', 'The steps of one round; repeat.index counts rounds from 1.'),
  })
  .refine((body) => [body.count, body.while, body.until, body.forever].filter((v) => v !== undefined).length === 1, {
    message: 'repeat needs exactly one of count, while, until, forever: true',
  })
  .meta({
    description: 'Run steps again: exactly one of count, while, until, forever: true.',
    examples: [{ count: 3, steps: [{ set: { brightness: 100 } }, { wait: '400ms' }] }],
    oneOf: ['count', 'while', 'until', 'forever'].map((key) => ({ required: [key] })),
  })

const waitFor = z
  .strictObject({
    mqtt: topicPattern.optional(),
    payload: z
      .union([z.string(), z.number(), z.boolean()])
      .transform(String)
      .optional()
      .meta({ description: 'The message must have exactly this payload.', examples: ['open', 'OFF'] }),
    json: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({
        description: "Fields of the message's JSON payload (dotted paths allowed) that must equal these values.",
        examples: [{ occupancy: false }],
      }),
    condition: condition.optional().meta({
      description: 'With mqtt: the message (as wait) must also meet it. Alone: wait until it holds.',
      examples: ['wait.json.level > 3', 'device.hall_bulb.on == false'],
    }),
    timeout: duration
      .optional()
      .meta({ description: 'Give up waiting after this long (then on_timeout).', examples: ['10m', '1m'] }),
    on_timeout: z
      .enum(['continue', 'abort'])
      .default('continue')
      .meta({
        description: 'After a timeout: go on with the next step, or abort the run.',
        examples: ['continue', 'abort'],
      }),
  })
  .refine((body) => body.mqtt !== undefined || body.condition !== undefined, {
    message: 'wait_for needs an mqtt topic or a condition',
  })
  .refine((body) => body.mqtt !== undefined || (body.payload === undefined && body.json === undefined), {
    message: 'payload and json need an mqtt topic',
  })
  .meta({
    description: 'Wait for an MQTT message (mqtt, payload, json, condition) or for a condition alone.',
    examples: [{ mqtt: 'zigbee2mqtt/hall_motion', json: { occupancy: false }, timeout: '10m' }],
    anyOf: [{ required: ['mqtt'] }, { required: ['condition'] }],
    dependencies: { payload: ['mqtt'], json: ['mqtt'] },
  })

const stepList = rawSteps('expected at least one step', 'The steps to run.')

/** The body schema of each step kind; `if` and `choose` also have companion keys beside their own. */
export const stepBodies = {
  set,
  wait: duration.meta({
    description: 'Wait this long: a duration (500ms, 1s, 10m, "00:00:05", { minutes: 2 }).',
    examples: ['500ms', '2m', { minutes: 2 }],
  }),
  repeat,
  wait_for: waitFor,
  if: condition.meta({
    description: 'Run then when this condition holds, else otherwise.',
    examples: ['device.hall_bulb.on && device.hall_bulb.brightness > 30'],
  }),
  choose: z
    .array(
      z
        .strictObject({
          when: condition.meta({
            description: 'The condition of this option.',
            examples: ["trigger.json.scene == 'cooking'"],
          }),
          steps: stepList,
        })
        .meta({
          description: 'An option: its condition and its steps.',
          examples: [{ when: "trigger.json.scene == 'dinner'", steps: [{ set: { brightness: 40 } }] }],
        }),
    )
    .min(1)
    .meta({
      description: 'Options, tried in order: the first whose when holds runs its steps (else default).',
      examples: [[{ when: "trigger.json.scene == 'cooking'", steps: [{ set: { color_temp: 4000 } }] }]],
    }),
  parallel: z
    .array(
      z
        .strictObject({
          device: deviceIds.optional().meta({
            description: "This branch's bulb or bulbs: its set steps address them.",
            examples: ['hall_bulb'],
          }),
          steps: stepList,
        })
        .meta({
          description: 'A branch: its devices and its steps.',
          examples: [{ device: 'hall_bulb', steps: [{ set: { on: true } }] }],
        }),
    )
    .min(1)
    .meta({
      description: "Branches that run at once, under the automation's one lock.",
      examples: [[{ device: 'hall_bulb', steps: [{ set: { on: true } }] }]],
    }),
  publish: z
    .strictObject({
      topic: publishTopic,
      payload: z
        .unknown()
        .default('')
        .meta({
          description: 'The payload: text, or a map or list (sent as JSON); {{ templates }} in it are filled in.',
          examples: ['{{ trigger.json.scene }}', { title: 'Doorbell', message: 'Someone is at the door' }],
        }),
      retain: z
        .boolean()
        .default(false)
        .meta({ description: 'Publish as a retained message.', examples: [false, true] }),
      qos: z
        .union([z.literal(0), z.literal(1)])
        .default(0)
        .meta({ description: 'MQTT quality of service: 0 or 1.', examples: [0, 1] }),
    })
    .meta({
      description: 'Publish an MQTT message.',
      examples: [{ topic: 'home/notify', payload: { title: 'Doorbell' }, retain: false }],
    }),
  log: z
    .union([
      template,
      z
        .strictObject({
          message: template,
          level: z
            .enum(['debug', 'info', 'warn', 'error'])
            .default('info')
            .meta({ description: 'The log level of the line.', examples: ['info', 'warn'] }),
        })
        .meta({ description: 'A message and its level.', examples: [{ message: 'door open', level: 'warn' }] }),
    ])
    .meta({
      description: 'Write a line to the log: text (with {{ templates }}), or { message, level }.',
      examples: ['doorbell: {{ trigger.json.action }} press', { message: 'door open', level: 'warn' }],
    }),
} satisfies Record<StepKind, z.ZodType>

/** Every step kind, in the order messages list them. */
export const STEP_KINDS = Object.keys(stepBodies) as StepKind[]

/** Keys that go beside a step's own key. */
export const COMPANION_KEYS: Partial<Record<StepKind, readonly string[]>> = {
  if: ['then', 'else'],
  choose: ['default'],
}

import { z } from 'zod'
import { DEVICE_STATES, SUN_EVENTS, type ConditionDefinition, type DeviceStateValue } from './definition.js'
import {
  DURATION_EXAMPLES,
  DURATION_FORMS,
  DURATION_JSON_FORMS,
  OFFSET_JSON_FORMS,
  parseDuration,
  parseOffset,
} from './duration.js'
import { checkCondition, checkTemplate, isTemplate } from './expression.js'
import { parseTimeOfDay, WEEKDAYS, type Weekday } from './local-time.js'
import { cronProblem } from './schedule.js'
import { filterProblem, isWildcard } from '../bus/index.js'

/**
 * zod schemas for the parts of an automation file that are not steps (steps are checked one by one in
 * parse-steps.ts and step-schema.ts, so an unknown step gets its own clear message).
 *
 * Each schema's `.meta()` is its documentation in the editor schema (schemas/automation.schema.json, made by
 * scripts/json-schemas.ts): a description, examples, and, where zod reads a value with a transform, the JSON
 * Schema of what may be written there. `#/definitions/...` are the parts the script defines once: step, steps,
 * trigger, condition, time_window.
 */

/** A JSON Schema pattern matching `words` in any case, with the blanks around them a trim removes. */
function anyCase(words: readonly string[]): string {
  const letters = (word: string) =>
    [...word].map((c) => (c.toLowerCase() === c.toUpperCase() ? c : `[${c.toLowerCase()}${c.toUpperCase()}]`)).join('')
  return `^\\s*(${words.map(letters).join('|')})\\s*$`
}

/** A value of this JSON form, or a non-empty list of them. */
function oneOrManyJson(item: Record<string, unknown>): Record<string, unknown>[] {
  return [item, { type: 'array', minItems: 1, items: item }]
}

const EXPRESSION_JSON = {
  type: 'string',
  description:
    'A jexl expression over trigger, device.<id>, now and repeat (src/automation/README.md); true runs, false skips.',
  examples: ["trigger.json.scene == 'cooking'", 'device.hall_bulb.on && device.hall_bulb.brightness > 30'],
}

const TIME_OF_DAY_JSON = {
  type: 'string',
  pattern: '^\\s*([01]?\\d|2[0-3]):[0-5]\\d(:[0-5]\\d)?\\s*$',
  description: 'A local time of day, 24-hour: "HH:MM" or "HH:MM:SS" (quote it in YAML).',
  examples: ['07:00', '22:30:15'],
}

/** `500ms`, `1s`, `10m`, `2h`, `"00:00:05"`, `{ minutes: 2 }` or a number of ms → ms. */
export const duration = z
  .unknown()
  .transform((value, ctx) => {
    const ms = parseDuration(value)
    if (ms === undefined) {
      ctx.issues.push({
        code: 'custom',
        message: `expected a duration like ${DURATION_FORMS} (at most 596h), got ${JSON.stringify(value)}`,
        input: value,
      })
      return z.NEVER
    }
    return ms
  })
  .meta({
    description: `A duration: ${DURATION_FORMS}, or a number of milliseconds; at most 596h.`,
    examples: [...DURATION_EXAMPLES],
    anyOf: [...DURATION_JSON_FORMS],
  })

/** A duration that may be negative (`-30m`): a sun trigger's offset. */
const offset = z
  .unknown()
  .transform((value, ctx) => {
    const ms = parseOffset(value)
    if (ms === undefined) {
      ctx.issues.push({
        code: 'custom',
        message: `expected an offset like -30m, 15m, "-00:45:00" or { minutes: -45 }, got ${JSON.stringify(value)}`,
        input: value,
      })
      return z.NEVER
    }
    return ms
  })
  .meta({
    description: 'How long before (-) or after the sun event: -30m, 15m, "-00:45:00", { minutes: -45 }. Default 0.',
    examples: ['-30m', '15m', '-00:45:00', { minutes: -45 }],
    anyOf: [...OFFSET_JSON_FORMS],
  })

/** A jexl expression, checked for syntax at load time. */
const expression = z
  .string()
  .superRefine((source, ctx) => {
    const problem = checkCondition(source)
    if (problem) ctx.addIssue({ code: 'custom', message: `bad condition: ${problem}` })
  })
  .meta(EXPRESSION_JSON)

/** `"07:00"` or `"07:00:30"` → seconds since midnight. */
export const timeOfDay = z
  .unknown()
  .transform((value, ctx) => {
    const seconds = typeof value === 'string' ? parseTimeOfDay(value) : undefined
    if (seconds === undefined) {
      ctx.issues.push({
        code: 'custom',
        message: `expected a time of day like "07:00" or "22:30:15" (24-hour, in quotes), got ${JSON.stringify(value)}`,
        input: value,
      })
      return z.NEVER
    }
    return seconds
  })
  .meta(TIME_OF_DAY_JSON)

/**
 * One value or a list of them → a list; each item read by `item`, its problems at its own index (a plain union
 * would say only "Invalid input").
 */
function oneOrMany<T>(item: z.ZodType<T>, itemJson: Record<string, unknown>) {
  return z
    .unknown()
    .meta({ anyOf: oneOrManyJson(itemJson) })
    .transform((value, ctx): T[] => {
      const items = Array.isArray(value) ? value : [value]
      if (items.length === 0) {
        ctx.issues.push({ code: 'custom', message: 'expected at least one value', input: value })
        return z.NEVER
      }
      const parsed: T[] = []
      items.forEach((one, i) => {
        const result = item.safeParse(one)
        if (result.success) parsed.push(result.data)
        else {
          for (const issue of result.error.issues) {
            const path = Array.isArray(value) ? [i, ...issue.path] : issue.path
            ctx.issues.push({ code: 'custom', message: issue.message, path, input: one })
          }
        }
      })
      return parsed.length === items.length ? parsed : z.NEVER
    })
}

const FULL_WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']

const WEEKDAY_JSON = {
  description: `A day of the week: ${WEEKDAYS.join(', ')} (or written out; any case).`,
  anyOf: [
    { type: 'string', enum: [...WEEKDAYS, ...FULL_WEEKDAYS] },
    { type: 'string', pattern: anyCase([...WEEKDAYS, ...FULL_WEEKDAYS]) },
  ],
  examples: ['mon', 'saturday'],
}

const weekday = z.unknown().transform((value, ctx): Weekday => {
  const text = typeof value === 'string' ? value.trim().toLowerCase() : ''
  const index = Math.max(WEEKDAYS.indexOf(text as Weekday), FULL_WEEKDAYS.indexOf(text))
  if (index >= 0) return WEEKDAYS[index]!
  ctx.issues.push({
    code: 'custom',
    message: `unknown weekday ${JSON.stringify(value)}: use ${WEEKDAYS.join(', ')}`,
    input: value,
  })
  return z.NEVER
})

/** `{ after: "22:00", before: "06:00", weekday: [sat, sun] }`. */
export const timeWindow = z
  .strictObject({
    after: timeOfDay.optional().meta({
      description: 'From this local time on (with before earlier than after, the window spans midnight).',
      examples: ['22:00'],
    }),
    before: timeOfDay.optional().meta({ description: 'Until this local time.', examples: ['06:30'] }),
    weekday: oneOrMany(weekday, WEEKDAY_JSON)
      .optional()
      .meta({ description: 'Only on this day, or these days.', examples: [['sat', 'sun'], 'mon'] }),
  })
  .refine((window) => Object.values(window).some((value) => value !== undefined), {
    message: 'a time window needs after, before or weekday',
  })
  .transform(({ weekday: days, ...window }) => ({
    ...window,
    ...(days === undefined ? {} : { weekday: [...new Set(days)] }),
  }))
  .meta({
    description: 'Holds in a local time window: after, before and/or weekday.',
    examples: [{ after: '22:00', before: '06:30' }, { weekday: ['sat', 'sun'] }],
    minProperties: 1,
  })

/**
 * A condition: a jexl expression (checked for syntax at load time), a time window `{ after, before, weekday }`,
 * or a list of them that must all hold.
 */
export const condition: z.ZodType<ConditionDefinition> = z
  .unknown()
  .transform((value, ctx) => {
    const parsed = conditionValue(value, [])
    for (const issue of parsed.issues) ctx.issues.push({ ...issue, input: value })
    return parsed.issues.length > 0 ? z.NEVER : parsed.value!
  })
  .meta({
    description:
      'A condition: a jexl expression, a time window { after, before, weekday }, or a list that must all hold.',
    examples: ['trigger.json.occupancy', { after: '22:00', before: '06:30' }, ['now.hour > 6', { weekday: 'sat' }]],
    anyOf: [
      EXPRESSION_JSON,
      { $ref: '#/definitions/time_window' },
      {
        type: 'array',
        minItems: 1,
        items: { $ref: '#/definitions/condition' },
        description: 'Conditions that must all hold.',
      },
    ],
  })

type Issue = { code: 'custom'; message: string; path: PropertyKey[] }

function conditionValue(value: unknown, path: PropertyKey[]): { value?: ConditionDefinition; issues: Issue[] } {
  const issues: Issue[] = []
  const from = (result: z.ZodSafeParseResult<unknown>, at: PropertyKey[]) => {
    if (result.success) return result.data
    for (const issue of result.error.issues) {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined]
      for (const key of keys) {
        issues.push({
          code: 'custom',
          path: [...at, ...issue.path, ...(key === undefined ? [] : [key])],
          message:
            key === undefined ? issue.message : `unknown field '${key}' (a time window has after, before, weekday)`,
        })
      }
    }
    return undefined
  }
  if (typeof value === 'string') return { value: from(expression.safeParse(value), path) as string, issues }
  if (Array.isArray(value) && value.length > 0) {
    const items = value.map((item, i) => {
      const parsed = conditionValue(item, [...path, i])
      issues.push(...parsed.issues)
      return parsed.value
    })
    return { value: items as ConditionDefinition[], issues }
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return { value: from(timeWindow.safeParse(value), path) as ConditionDefinition, issues }
  }
  issues.push({
    code: 'custom',
    path,
    message: `expected a condition: an expression, a time window { after, before, weekday } or a list of them; got ${JSON.stringify(value)}`,
  })
  return { issues }
}

/** A string that may hold `{{ }}` templates, each checked for syntax at load time. */
export const template = z
  .string()
  .superRefine((source, ctx) => {
    const problem = isTemplate(source) ? checkTemplate(source) : undefined
    if (problem) ctx.addIssue({ code: 'custom', message: `bad template: ${problem}` })
  })
  .meta({
    description: 'Text; {{ expression }} in it is replaced by the value of a jexl expression when the step runs.',
    examples: ['doorbell: {{ trigger.json.action }} press', 'hall already lit'],
  })

/** An MQTT subscription pattern (`+` and `#` filling whole levels). */
export const topicPattern = z
  .string()
  .superRefine((topic, ctx) => {
    const problem = filterProblem(topic)
    if (problem) ctx.addIssue({ code: 'custom', message: problem })
  })
  .meta({
    description: 'An MQTT topic to listen to; + stands for one whole level, # (last) for every level below.',
    examples: ['home/alarm', 'zigbee2mqtt/+/action', 'home/#'],
    minLength: 1,
    // filterProblem: + and # fill whole levels, # only as the last.
    pattern: '^(#|(\\+|[^+#/]*)(/(\\+|[^+#/]*))*(/#)?)$',
  })

/** A plain topic to publish to: no wildcards (templates allowed). */
export const publishTopic = template
  .refine((topic) => topic !== '' && !isWildcard(topic), {
    message: 'a publish topic must be non-empty and have no + or # wildcards',
  })
  .meta({
    description: 'The MQTT topic to publish to: no + or # wildcards; {{ templates }} allowed.',
    examples: ['home/notify', 'home/{{ trigger.json.room }}/light'],
    pattern: '^[^+#]+$',
  })

const scalarText = z
  .union([z.string(), z.number(), z.boolean()])
  .transform(String)
  .meta({
    description: 'The payload must be exactly this text (numbers and true/false are compared as text).',
    examples: ['ON', 'OFF', 1],
  })

/** After a restart, run one occurrence of a schedule missed by at most this long. */
const catchUp = duration.optional().meta({
  description:
    'After a restart, run one occurrence missed by at most this long (genlock restarted at 06:42? the 06:40 run ' +
    'still happens).',
  examples: ['5m', '1h'],
})

const cronPattern = z
  .string()
  .superRefine((pattern, ctx) => {
    const fields = pattern.trim().split(/\s+/).length
    const problem =
      pattern.trim().startsWith('@') || fields === 5 || fields === 6
        ? cronProblem(pattern)
        : `expected 5 fields (minute hour day month weekday), or 6 with seconds first; got ${fields}`
    if (problem) ctx.addIssue({ code: 'custom', message: `bad cron pattern: ${problem}` })
  })
  .meta({
    description:
      'A cron pattern in local time: minute hour day month weekday (or 6 fields, seconds first), or @daily, @hourly...',
    examples: ['40 6 * * mon-fri', '0 */2 * * *', '@daily'],
    // Five or six fields, or a nickname; what each field may hold is checked by `genlock validate`.
    pattern: '^\\s*(@[A-Za-z]+|\\S+(\\s+\\S+){4,5})\\s*$',
  })

const DEVICE_STATE_JSON = {
  description: `A device state: ${DEVICE_STATES.join(', ')} (true and false are on and off).`,
  anyOf: [
    { type: 'string', enum: [...DEVICE_STATES] },
    { type: 'string', pattern: anyCase(DEVICE_STATES).replaceAll('\\s*', '') },
    { type: 'boolean' },
  ],
  examples: ['on', 'off', 'unavailable'],
}

const deviceState = z.unknown().transform((value, ctx): DeviceStateValue => {
  const text = value === true ? 'on' : value === false ? 'off' : typeof value === 'string' ? value.toLowerCase() : ''
  if ((DEVICE_STATES as readonly string[]).includes(text)) return text as DeviceStateValue
  ctx.issues.push({
    code: 'custom',
    message: `expected ${DEVICE_STATES.join(', ')} (or a list of them), got ${JSON.stringify(value)}`,
    input: value,
  })
  return z.NEVER
})
const deviceStates = oneOrMany(deviceState, DEVICE_STATE_JSON)

/**
 * One trigger (or stop) per kind, by the key that names the kind. parse-triggers.ts picks the schema by that key,
 * so a list item with none of them gets a message naming the kinds.
 */
const triggerCondition = condition.optional().meta({
  description: 'The trigger fires only when this condition holds too.',
  examples: [{ after: '22:00', before: '06:30' }, 'device.hall_bulb.on == false'],
})

const messageJson = z
  .record(z.string(), z.unknown())
  .optional()
  .meta({
    description: "Fields of the message's JSON payload (dotted paths allowed) that must equal these values.",
    examples: [{ action: 'single' }, { occupancy: true }],
  })

export const triggerBodies = {
  mqtt: z
    .strictObject({
      mqtt: topicPattern,
      payload: scalarText.optional(),
      json: messageJson,
      condition: triggerCondition,
      for: duration.optional().meta({
        description:
          'Fire once the match has held this long (no message on the topic that does not match), then not again ' +
          'until it stopped holding.',
        examples: ['2m', '30s'],
      }),
    })
    .transform(({ mqtt, ...rest }) => ({ kind: 'mqtt' as const, topic: mqtt, ...rest }))
    .meta({
      description: 'When a message arrives on an MQTT topic (payload, json and condition narrow it).',
      examples: [
        { mqtt: 'home/party', payload: 'ON' },
        { mqtt: 'zigbee2mqtt/doorbell', json: { action: 'single' } },
      ],
    }),
  at: z
    .strictObject({
      at: oneOrMany(timeOfDay, TIME_OF_DAY_JSON).meta({
        description: 'A local time of day, or a list of them (24-hour, in quotes).',
        examples: ['07:00', ['07:00', '19:30']],
      }),
      condition: triggerCondition,
      catch_up: catchUp,
    })
    .transform(({ at, catch_up, ...rest }) => ({
      kind: 'at' as const,
      times: [...new Set(at)].sort((a, b) => a - b),
      ...rest,
      ...(catch_up === undefined ? {} : { catchUp: catch_up }),
    }))
    .meta({
      description: 'At a local time of day (the config.yaml timezone).',
      examples: [{ at: '07:00' }, { at: ['07:00', '19:30'], condition: { weekday: ['sat', 'sun'] } }],
    }),
  cron: z
    .strictObject({ cron: cronPattern, condition: triggerCondition, catch_up: catchUp })
    .transform(({ cron, catch_up, ...rest }) => ({
      kind: 'cron' as const,
      pattern: cron.trim(),
      ...rest,
      ...(catch_up === undefined ? {} : { catchUp: catch_up }),
    }))
    .meta({
      description: 'On a cron schedule, in local time.',
      examples: [{ cron: '40 6 * * mon-fri', catch_up: '5m' }],
    }),
  sun: z
    .strictObject({
      sun: z.enum(SUN_EVENTS, { error: () => `expected one of ${SUN_EVENTS.join(', ')}` }).meta({
        description: 'The sun event, where config.yaml location says you are.',
        examples: ['sunset', 'sunrise'],
      }),
      offset: offset.default(0),
      condition: triggerCondition,
      catch_up: catchUp,
    })
    .transform(({ sun, catch_up, ...rest }) => ({
      kind: 'sun' as const,
      event: sun,
      ...rest,
      ...(catch_up === undefined ? {} : { catchUp: catch_up }),
    }))
    .meta({
      description: 'At sunrise, sunset, dawn, dusk or solar noon, with an offset (needs location in config.yaml).',
      examples: [{ sun: 'sunset', offset: '-30m' }],
    }),
  state: z
    .strictObject({
      state: z
        .strictObject({
          device: z
            .string()
            .min(1)
            .meta({ description: 'The id of the device to watch (a device file).', examples: ['hall_bulb'] }),
          to: deviceStates
            .optional()
            .meta({ description: 'Fire when the device changes to this state (or one of these).', examples: ['on'] }),
          from: deviceStates
            .optional()
            .meta({ description: 'Fire only when it changes from this state (or one of these).', examples: ['off'] }),
          for: duration.optional().meta({
            description: 'Fire only once the device has stayed in the new state this long.',
            examples: ['10m', '00:05:00'],
          }),
        })
        .meta({
          description: "A device's state change: to, from, and how long it lasts.",
          examples: [{ device: 'hall_bulb', to: 'on', for: '10m' }],
        }),
      condition: triggerCondition,
    })
    .transform(({ state, ...rest }) => ({ kind: 'state' as const, ...state, ...rest }))
    .meta({
      description: 'When a device turns on or off, or becomes unavailable (optionally for a while).',
      examples: [{ state: { device: 'hall_bulb', to: 'on', for: '10m' } }],
    }),
}

/** Every trigger kind, in the order messages list them. */
export const TRIGGER_KINDS = Object.keys(triggerBodies) as (keyof typeof triggerBodies)[]

const onPreempt = z.unknown().transform((value, ctx) => {
  if (value === 'resume' || value === 'restart' || value === 'abort') return value
  if (
    value !== null &&
    typeof value === 'object' &&
    Object.keys(value).length === 1 &&
    typeof (value as { replace?: unknown }).replace === 'string'
  ) {
    return { replace: (value as { replace: string }).replace }
  }
  ctx.issues.push({
    code: 'custom',
    message: `expected resume, restart, abort or { replace: <automation name> }, got ${JSON.stringify(value)}`,
    input: value,
  })
  return z.NEVER
})

/** One device id or a list of them, deduplicated. */
const deviceIds = z
  .union([
    z
      .string()
      .min(1)
      .meta({ description: 'A device id.', examples: ['bath_bulb'] }),
    z
      .array(
        z
          .string()
          .min(1)
          .meta({ description: 'A device id.', examples: ['bath_bulb'] }),
      )
      .min(1)
      .meta({ description: 'Device ids.', examples: [['hall_bulb', 'kitchen_strip']] }),
  ])
  .transform((value) => (Array.isArray(value) ? [...new Set(value)] : [value]))
  .meta({
    description: 'A device id (a device file), or a list of them.',
    examples: ['bath_bulb', ['hall_bulb', 'kitchen_strip']],
  })

/** A `trigger:` or `stop:` list as parse-triggers.ts reads it: one item or a list (empty or null: none). */
function triggersJson(item: Record<string, unknown>): Record<string, unknown>[] {
  return [{ type: 'null' }, item, { type: 'array', items: item }]
}

export { deviceIds }

/** The automation file, with `steps` left for parse-steps.ts. */
export const automationFile = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'an automation name may use only letters, digits, _ and - (it is part of MQTT topics)')
      .meta({
        description: "The automation's name, unique: letters, digits, _ and - (it is part of MQTT topics).",
        examples: ['wake_up', 'night-light'],
      }),
    description: z
      .string()
      .optional()
      .meta({
        description: 'What it does, for people (shown in Home Assistant).',
        examples: ['A 20-minute sunrise in the bath on weekday mornings'],
      }),
    enabled: z
      .boolean()
      .default(true)
      .meta({
        description: 'false: triggers are ignored (the command topic <base>/automation/<name>/set still starts it).',
        examples: [true, false],
      }),
    priority: z
      .number()
      .finite()
      .default(0)
      .meta({
        description:
          'Lock priority: a run takes its bulbs from a lower-priority run (which waits, per on_preempt) and waits ' +
          'for a higher one.',
        examples: [0, 50, 200],
      }),
    devices: deviceIds,
    // Checked item by item in parse-triggers.ts.
    trigger: z
      .unknown()
      .optional()
      .meta({
        description: 'What starts a run: a trigger (mqtt, at, cron, sun, state), or a list of them.',
        examples: [[{ mqtt: 'home/party', payload: 'ON' }], [{ cron: '40 6 * * mon-fri' }]],
        anyOf: triggersJson({ $ref: '#/definitions/trigger' }),
      }),
    stop: z
      .unknown()
      .optional()
      .meta({
        description:
          'What ends every run (and empties the queue): a trigger, or a list of them (catch_up is for triggers only).',
        examples: [[{ mqtt: 'home/party', payload: 'OFF' }]],
        anyOf: triggersJson({
          allOf: [{ $ref: '#/definitions/trigger' }, { type: 'object', properties: { catch_up: false } }],
        }),
      }),
    on_preempt: onPreempt.default('resume').meta({
      description:
        'When a higher-priority run takes the bulbs: resume (go on at the step it was at), restart (from the ' +
        'first step), abort, or { replace: <automation> } (end, and start that automation instead).',
      examples: ['resume', 'restart', 'abort', { replace: 'night_light' }],
      anyOf: [
        { type: 'string', enum: ['resume', 'restart', 'abort'] },
        {
          type: 'object',
          description: 'End this run and start the named automation instead.',
          properties: { replace: { type: 'string', description: 'An automation name.', examples: ['night_light'] } },
          required: ['replace'],
          additionalProperties: false,
        },
      ],
    }),
    on_error: z
      .enum(['abort', 'continue'])
      .default('abort')
      .meta({
        description: 'When a step fails (a bulb does not answer): abort the run, or continue with the next step.',
        examples: ['abort', 'continue'],
      }),
    restore: z
      .boolean()
      .default(false)
      .meta({
        description: 'When the run ends and nothing else takes the bulbs, put them back as they were before.',
        examples: [true],
      }),
    lock: z
      .strictObject({
        ttl: duration.optional().meta({
          description: 'How long the lock may be held before it runs out (the run loses its bulbs). Default: no limit.',
          examples: ['10m', '1m'],
        }),
        acquire_timeout: duration.optional().meta({
          description:
            'How long a run waits for its bulbs, while the lock backend answers, before it gives up. Default: no limit.',
          examples: ['5s', '2s'],
        }),
        outage_wait: duration.optional().meta({
          description:
            'How long a triggered run waits for an unreachable lock backend (Redis down) to come back before it ' +
            'fails; it runs as soon as the backend answers. Default: 5m.',
          examples: ['5m', '30s'],
        }),
      })
      .default({})
      .meta({ description: "The run's bulb lock.", examples: [{ ttl: '10m', acquire_timeout: '5s' }] }),
    mode: z
      .enum(['single', 'restart', 'queued', 'parallel'])
      .default('single')
      .meta({
        description:
          'A trigger while a run is going, as in Home Assistant: single (ignored), restart (the run starts over), ' +
          'queued (runs after it), parallel (another run at once).',
        examples: ['single', 'restart', 'queued'],
      }),
    max: z
      .number()
      .int()
      .min(1)
      .default(10)
      .meta({ description: 'queued and parallel: the most runs at once, counting queued ones.', examples: [10, 5] }),
    steps: z
      .array(z.unknown())
      .min(1, 'an automation needs at least one step')
      .meta({
        description: 'What a run does, step by step.',
        examples: [[{ set: { color: 'red', brightness: 80 } }, { wait: '1s' }]],
        items: { $ref: '#/definitions/step' },
      }),
  })
  .meta({
    title: 'genlock automation file',
    description:
      'One automation (automations/<name>.yaml): its bulbs and priority, its triggers, and the steps a run takes.',
    examples: [
      {
        name: 'party',
        devices: ['bath_bulb'],
        trigger: [{ mqtt: 'home/party', payload: 'ON' }],
        steps: [{ set: { color: 'red' } }],
      },
    ],
  })

/** An automation file as the schema leaves it (steps still raw). */
export type AutomationFile = z.output<typeof automationFile>

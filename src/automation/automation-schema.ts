import { z } from 'zod'
import { DEVICE_STATES, SUN_EVENTS, type ConditionDefinition, type DeviceStateValue } from './definition.js'
import { DURATION_FORMS, parseDuration, parseOffset } from './duration.js'
import { checkCondition, checkTemplate, isTemplate } from './expression.js'
import { parseTimeOfDay, WEEKDAYS, type Weekday } from './local-time.js'
import { cronProblem } from './schedule.js'
import { filterProblem, isWildcard } from '../bus/index.js'

/**
 * zod schemas for the parts of an automation file that are not steps (steps are checked one by one in
 * parse-steps.ts and step-schema.ts, so an unknown step gets its own clear message).
 */

/** `500ms`, `1s`, `10m`, `2h`, `"00:00:05"`, `{ minutes: 2 }` or a number of ms → ms. */
export const duration = z.unknown().transform((value, ctx) => {
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

/** A duration that may be negative (`-30m`): a sun trigger's offset. */
const offset = z.unknown().transform((value, ctx) => {
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

/** A jexl expression, checked for syntax at load time. */
const expression = z.string().superRefine((source, ctx) => {
  const problem = checkCondition(source)
  if (problem) ctx.addIssue({ code: 'custom', message: `bad condition: ${problem}` })
})

/** `"07:00"` or `"07:00:30"` → seconds since midnight. */
export const timeOfDay = z.unknown().transform((value, ctx) => {
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

/**
 * One value or a list of them → a list; each item read by `item`, its problems at its own index (a plain union
 * would say only "Invalid input").
 */
function oneOrMany<T>(item: z.ZodType<T>) {
  return z.unknown().transform((value, ctx): T[] => {
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
const timeWindow = z
  .strictObject({
    after: timeOfDay.optional(),
    before: timeOfDay.optional(),
    weekday: oneOrMany(weekday).optional(),
  })
  .refine((window) => Object.values(window).some((value) => value !== undefined), {
    message: 'a time window needs after, before or weekday',
  })
  .transform(({ weekday: days, ...window }) => ({
    ...window,
    ...(days === undefined ? {} : { weekday: [...new Set(days)] }),
  }))

/**
 * A condition: a jexl expression (checked for syntax at load time), a time window `{ after, before, weekday }`,
 * or a list of them that must all hold.
 */
export const condition: z.ZodType<ConditionDefinition> = z.unknown().transform((value, ctx) => {
  const parsed = conditionValue(value, [])
  for (const issue of parsed.issues) ctx.issues.push({ ...issue, input: value })
  return parsed.issues.length > 0 ? z.NEVER : parsed.value!
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
export const template = z.string().superRefine((source, ctx) => {
  const problem = isTemplate(source) ? checkTemplate(source) : undefined
  if (problem) ctx.addIssue({ code: 'custom', message: `bad template: ${problem}` })
})

/** An MQTT subscription pattern (`+` and `#` filling whole levels). */
export const topicPattern = z.string().superRefine((topic, ctx) => {
  const problem = filterProblem(topic)
  if (problem) ctx.addIssue({ code: 'custom', message: problem })
})

/** A plain topic to publish to: no wildcards (templates allowed). */
export const publishTopic = template.refine((topic) => topic !== '' && !isWildcard(topic), {
  message: 'a publish topic must be non-empty and have no + or # wildcards',
})

const scalarText = z.union([z.string(), z.number(), z.boolean()]).transform(String)

/** After a restart, run one occurrence of a schedule missed by at most this long. */
const catchUp = duration.optional()

const cronPattern = z.string().superRefine((pattern, ctx) => {
  const fields = pattern.trim().split(/\s+/).length
  const problem =
    pattern.trim().startsWith('@') || fields === 5 || fields === 6
      ? cronProblem(pattern)
      : `expected 5 fields (minute hour day month weekday), or 6 with seconds first; got ${fields}`
  if (problem) ctx.addIssue({ code: 'custom', message: `bad cron pattern: ${problem}` })
})

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
const deviceStates = oneOrMany(deviceState)

/**
 * One trigger (or stop) per kind, by the key that names the kind. parse-triggers.ts picks the schema by that key,
 * so a list item with none of them gets a message naming the kinds.
 */
export const triggerBodies = {
  mqtt: z
    .strictObject({
      mqtt: topicPattern,
      payload: scalarText.optional(),
      json: z.record(z.string(), z.unknown()).optional(),
      condition: condition.optional(),
      for: duration.optional(),
    })
    .transform(({ mqtt, ...rest }) => ({ kind: 'mqtt' as const, topic: mqtt, ...rest })),
  at: z
    .strictObject({
      at: oneOrMany(timeOfDay),
      condition: condition.optional(),
      catch_up: catchUp,
    })
    .transform(({ at, catch_up, ...rest }) => ({
      kind: 'at' as const,
      times: [...new Set(at)].sort((a, b) => a - b),
      ...rest,
      ...(catch_up === undefined ? {} : { catchUp: catch_up }),
    })),
  cron: z
    .strictObject({ cron: cronPattern, condition: condition.optional(), catch_up: catchUp })
    .transform(({ cron, catch_up, ...rest }) => ({
      kind: 'cron' as const,
      pattern: cron.trim(),
      ...rest,
      ...(catch_up === undefined ? {} : { catchUp: catch_up }),
    })),
  sun: z
    .strictObject({
      sun: z.enum(SUN_EVENTS, { error: () => `expected one of ${SUN_EVENTS.join(', ')}` }),
      offset: offset.default(0),
      condition: condition.optional(),
      catch_up: catchUp,
    })
    .transform(({ sun, catch_up, ...rest }) => ({
      kind: 'sun' as const,
      event: sun,
      ...rest,
      ...(catch_up === undefined ? {} : { catchUp: catch_up }),
    })),
  state: z
    .strictObject({
      state: z.strictObject({
        device: z.string().min(1),
        to: deviceStates.optional(),
        from: deviceStates.optional(),
        for: duration.optional(),
      }),
      condition: condition.optional(),
    })
    .transform(({ state, ...rest }) => ({ kind: 'state' as const, ...state, ...rest })),
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
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .transform((value) => (Array.isArray(value) ? [...new Set(value)] : [value]))

export { deviceIds }

/** The automation file, with `steps` left for parse-steps.ts. */
export const automationFile = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'an automation name may use only letters, digits, _ and - (it is part of MQTT topics)'),
  description: z.string().optional(),
  enabled: z.boolean().default(true),
  priority: z.number().finite().default(0),
  devices: deviceIds,
  /** Checked item by item in parse-triggers.ts. */
  trigger: z.unknown().optional(),
  stop: z.unknown().optional(),
  on_preempt: onPreempt.default('resume'),
  on_error: z.enum(['abort', 'continue']).default('abort'),
  restore: z.boolean().default(false),
  lock: z
    .strictObject({ ttl: duration.optional(), acquire_timeout: duration.optional(), outage_wait: duration.optional() })
    .default({}),
  mode: z.enum(['single', 'restart', 'queued', 'parallel']).default('single'),
  max: z.number().int().min(1).default(10),
  steps: z.array(z.unknown()).min(1, 'an automation needs at least one step'),
})

/** An automation file as the schema leaves it (steps still raw). */
export type AutomationFile = z.output<typeof automationFile>

import { z } from 'zod'
import { parseDuration } from './duration.js'
import { checkCondition, checkTemplate, isTemplate } from './expression.js'
import { filterProblem, isWildcard } from '../bus/index.js'

/**
 * zod schemas for the parts of an automation file that are not steps (steps are checked one by one in
 * parse-steps.ts and step-schema.ts, so an unknown step gets its own clear message).
 */

/** `500ms`, `1s`, `10m`, `2h` or a number of ms → ms. */
export const duration = z.unknown().transform((value, ctx) => {
  const ms = parseDuration(value)
  if (ms === undefined) {
    ctx.issues.push({
      code: 'custom',
      message: `expected a duration like 500ms, 1s, 10m or 2h (at most 596h), got ${JSON.stringify(value)}`,
      input: value,
    })
    return z.NEVER
  }
  return ms
})

/** A jexl condition, checked for syntax at load time. */
export const condition = z.string().superRefine((source, ctx) => {
  const problem = checkCondition(source)
  if (problem) ctx.addIssue({ code: 'custom', message: `bad condition: ${problem}` })
})

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

/** One trigger (or stop): `mqtt` topic, optional exact `payload`, `json` fields and `condition`. */
export const trigger = z
  .strictObject({
    mqtt: topicPattern,
    payload: scalarText.optional(),
    json: z.record(z.string(), z.unknown()).optional(),
    condition: condition.optional(),
  })
  .transform(({ mqtt, ...rest }) => ({ topic: mqtt, ...rest }))

/** A trigger list may be written as one trigger. */
const triggers = z
  .union([trigger, z.array(trigger)])
  .optional()
  .transform((value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]))

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
  trigger: triggers,
  stop: triggers,
  on_preempt: onPreempt.default('resume'),
  on_error: z.enum(['abort', 'continue']).default('abort'),
  restore: z.boolean().default(false),
  lock: z.strictObject({ ttl: duration.optional(), acquire_timeout: duration.optional() }).default({}),
  mode: z.enum(['single', 'restart', 'queued', 'parallel']).default('single'),
  max: z.number().int().min(1).default(10),
  steps: z.array(z.unknown()).min(1, 'an automation needs at least one step'),
})

/** An automation file as the schema leaves it (steps still raw). */
export type AutomationFile = z.output<typeof automationFile>

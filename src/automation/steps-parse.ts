import { z } from 'zod'
import type { FieldPath } from '../config/yaml-source.js'
import type { SetValues, StepDefinition, StepKind, TriggerDefinition } from './definition.js'
import { checkTemplate, isTemplate } from './expression.js'
import { condition, deviceIds, duration, publishTopic, template, topicPattern } from './schema.js'

/** Where a problem is reported: the field path inside the file and the message. */
export type ProblemSink = (path: FieldPath, message: string) => void

const STEP_KINDS: readonly StepKind[] = [
  'set',
  'wait',
  'repeat',
  'wait_for',
  'if',
  'choose',
  'parallel',
  'publish',
  'log',
]
/** Keys that go beside a step's own key. */
const COMPANION_KEYS: Partial<Record<StepKind, readonly string[]>> = { if: ['then', 'else'], choose: ['default'] }

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

const setBody = z
  .strictObject({
    device: deviceIds.optional(),
    on: templated(z.boolean()).optional(),
    brightness: templated(z.number().min(0).max(100)).optional(),
    color: z.union([template, rgb, hsv, kelvin]).optional(),
    color_temp: templated(z.number().positive()).optional(),
    transition: z.union([template.refine(isTemplate), duration]).optional(),
  })
  .refine((body) => Object.keys(body).some((key) => key !== 'device'), {
    message: 'set needs at least one of on, brightness, color, color_temp, transition',
  })

const repeatBody = z
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

const waitForBody = z
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
const chooseBody = z.array(z.strictObject({ when: condition, steps: stepList })).min(1)
const parallelBody = z.array(z.strictObject({ device: deviceIds.optional(), steps: stepList })).min(1)
const publishBody = z.strictObject({
  topic: publishTopic,
  payload: z.unknown().default(''),
  retain: z.boolean().default(false),
  qos: z.union([z.literal(0), z.literal(1)]).default(0),
})
const logBody = z.union([
  template,
  z.strictObject({ message: template, level: z.enum(['debug', 'info', 'warn', 'error']).default('info') }),
])

/** Checks and converts YAML steps into StepDefinitions, reporting every problem to `report`. */
export class StepParser {
  constructor(
    private readonly report: ProblemSink,
    /** Every device the automation locks. */
    private readonly automationDevices: readonly string[],
  ) {}

  /** Parses a step list at `path`; `devices` are the ones a `set` without `device` addresses. */
  parseList(raw: unknown, path: FieldPath, devices: readonly string[] = this.automationDevices): StepDefinition[] {
    if (!Array.isArray(raw)) {
      this.report(path, 'expected a list of steps')
      return []
    }
    return raw.flatMap((step, i) => {
      const parsed = this.parseStep(step, [...path, i], devices)
      return parsed ? [parsed] : []
    })
  }

  private parseStep(raw: unknown, path: FieldPath, devices: readonly string[]): StepDefinition | undefined {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      this.report(path, `expected a step (a map such as "set: { color: red }"), got ${JSON.stringify(raw)}`)
      return undefined
    }
    const step = raw as Record<string, unknown>
    const keys = Object.keys(step)
    const kinds = keys.filter((key): key is StepKind => (STEP_KINDS as readonly string[]).includes(key))
    if (kinds.length === 0) {
      this.report([...path, keys[0] ?? ''], `unknown step '${keys[0] ?? ''}': expected one of ${STEP_KINDS.join(', ')}`)
      return undefined
    }
    if (kinds.length > 1) {
      this.report([...path, kinds[1]!], `a step does one thing; found ${kinds.join(' and ')}`)
      return undefined
    }
    const kind = kinds[0]!
    const allowed = new Set([kind, ...(COMPANION_KEYS[kind] ?? [])])
    const extra = keys.filter((key) => !allowed.has(key))
    for (const key of extra) this.report([...path, key], `unknown field '${key}' in a ${kind} step`)
    if (extra.length > 0) return undefined
    return this.parseKind(kind, step, path, devices)
  }

  private parseKind(
    kind: StepKind,
    step: Record<string, unknown>,
    path: FieldPath,
    devices: readonly string[],
  ): StepDefinition | undefined {
    const at = [...path, kind]
    switch (kind) {
      case 'set': {
        const body = this.zod(setBody, step.set, at)
        if (!body) return undefined
        const targets = body.device && this.checkDevices(body.device, [...at, 'device'], devices)
        if (body.device && !targets) return undefined
        const values: SetValues = {
          on: body.on,
          brightness: body.brightness,
          color: body.color,
          colorTemp: body.color_temp,
          transition: body.transition,
        }
        return { kind, ...(targets ? { devices: targets } : {}), values: dropUndefined(values) }
      }
      case 'wait': {
        const ms = this.zod(duration, step.wait, at)
        return ms === undefined ? undefined : { kind, ms }
      }
      case 'repeat': {
        const body = this.zod(repeatBody, step.repeat, at)
        if (!body) return undefined
        const steps = this.parseList(body.steps, [...at, 'steps'], devices)
        const { steps: _ignored, ...loop } = body
        return { kind, ...dropUndefined(loop), steps }
      }
      case 'wait_for': {
        const body = this.zod(waitForBody, step.wait_for, at)
        if (!body) return undefined
        const trigger: TriggerDefinition | undefined =
          body.mqtt === undefined
            ? undefined
            : dropUndefined({ topic: body.mqtt, payload: body.payload, json: body.json, condition: body.condition })
        return dropUndefined({
          kind,
          trigger,
          condition: trigger ? undefined : body.condition,
          timeout: body.timeout,
          onTimeout: body.on_timeout,
        })
      }
      case 'if': {
        const test = this.zod(condition, step.if, at)
        const then = this.parseList(step.then, [...path, 'then'], devices)
        const otherwise = step.else === undefined ? [] : this.parseList(step.else, [...path, 'else'], devices)
        return test === undefined ? undefined : { kind, condition: test, then, else: otherwise }
      }
      case 'choose': {
        const body = this.zod(chooseBody, step.choose, at)
        const fallback = step.default === undefined ? [] : this.parseList(step.default, [...path, 'default'], devices)
        if (!body) return undefined
        const options = body.map((option, i) => ({
          when: option.when,
          steps: this.parseList(option.steps, [...at, i, 'steps'], devices),
        }))
        return { kind, options, default: fallback }
      }
      case 'parallel': {
        const body = this.zod(parallelBody, step.parallel, at)
        if (!body) return undefined
        const branches = body.map((branch, i) => {
          const own = branch.device && this.checkDevices(branch.device, [...at, i, 'device'], devices)
          const steps = this.parseList(branch.steps, [...at, i, 'steps'], own ?? devices)
          return own ? { devices: own, steps } : { steps }
        })
        return { kind, branches }
      }
      case 'publish': {
        const body = this.zod(publishBody, step.publish, at)
        if (!body) return undefined
        this.checkTemplatesDeep(body.payload, [...at, 'payload'])
        return { kind, topic: body.topic, payload: body.payload, retain: body.retain, qos: body.qos }
      }
      case 'log': {
        const body = this.zod(logBody, step.log, at)
        if (body === undefined) return undefined
        return typeof body === 'string'
          ? { kind, message: body, level: 'info' }
          : { kind, message: body.message, level: body.level }
      }
    }
  }

  /** Devices a step names must be among the ones its automation (or parallel branch) locks. */
  private checkDevices(named: readonly string[], path: FieldPath, devices: readonly string[]): string[] | undefined {
    const outside = named.filter((id) => !devices.includes(id))
    for (const id of outside) {
      this.report(path, `device '${id}' is not one of this automation's devices (${devices.join(', ')})`)
    }
    return outside.length === 0 ? [...named] : undefined
  }

  private checkTemplatesDeep(value: unknown, path: FieldPath): void {
    if (typeof value === 'string') {
      const problem = isTemplate(value) ? checkTemplate(value) : undefined
      if (problem) this.report(path, `bad template: ${problem}`)
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => this.checkTemplatesDeep(item, [...path, i]))
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) this.checkTemplatesDeep(item, [...path, key])
    }
  }

  private zod<S extends z.ZodType>(schema: S, value: unknown, path: FieldPath): z.output<S> | undefined {
    const result = schema.safeParse(value)
    if (result.success) return result.data
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) this.report([...path, ...issue.path, key], `unknown field '${key}'`)
      } else {
        this.report([...path, ...issue.path], issue.message)
      }
    }
    return undefined
  }
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T
}

import type { z } from 'zod'
import type { FieldPath } from '../config/yaml-source.js'
import type { MqttTriggerDefinition, SetValues, StepDefinition, StepKind, StepOf } from './definition.js'
import { checkTemplate, isTemplate } from './expression.js'
import { COMPANION_KEYS, STEP_KINDS, stepBodies } from './step-schema.js'
import { mapChildSteps } from './step-tree.js'

/** Where a problem is reported: the field path inside the file and the message. */
export type ProblemSink = (path: FieldPath, message: string) => void

/** A step with its own fields read and its nested step lists still raw YAML. */
interface OwnFields {
  readonly step: StepOf<unknown>
  /** False when one of its own fields was wrong: its nested steps are still checked, for their problems. */
  readonly valid: boolean
}

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
    const own = this.parseOwnFields(kind, step, path, devices)
    if (!own) return undefined
    const parsed = mapChildSteps(own.step, (list, at) =>
      this.parseList(list, [...path, ...at.path], at.devices ?? devices),
    )
    return own.valid ? parsed : undefined
  }

  /** Reads the fields of a step of `kind` that are not nested steps. */
  private parseOwnFields(
    kind: StepKind,
    step: Record<string, unknown>,
    path: FieldPath,
    devices: readonly string[],
  ): OwnFields | undefined {
    const at = [...path, kind]
    switch (kind) {
      case 'set': {
        const body = this.zod(stepBodies.set, step.set, at)
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
        return valid({ kind, ...(targets ? { devices: targets } : {}), values: dropUndefined(values) })
      }
      case 'wait': {
        const ms = this.zod(stepBodies.wait, step.wait, at)
        return ms === undefined ? undefined : valid({ kind, ms })
      }
      case 'repeat': {
        const body = this.zod(stepBodies.repeat, step.repeat, at)
        if (!body) return undefined
        const { steps, ...loop } = body
        return valid({ kind, ...dropUndefined(loop), steps })
      }
      case 'wait_for': {
        const body = this.zod(stepBodies.wait_for, step.wait_for, at)
        if (!body) return undefined
        const trigger: MqttTriggerDefinition | undefined =
          body.mqtt === undefined
            ? undefined
            : dropUndefined({
                kind: 'mqtt' as const,
                topic: body.mqtt,
                payload: body.payload,
                json: body.json,
                condition: body.condition,
              })
        return valid(
          dropUndefined({
            kind,
            trigger,
            condition: trigger ? undefined : body.condition,
            timeout: body.timeout,
            onTimeout: body.on_timeout,
          }),
        )
      }
      case 'if': {
        const test = this.zod(stepBodies.if, step.if, at)
        const ifStep = { kind, condition: test ?? '', then: step.then, else: step.else ?? [] }
        return { step: ifStep, valid: test !== undefined }
      }
      case 'choose': {
        const options = this.zod(stepBodies.choose, step.choose, at)
        return { step: { kind, options: options ?? [], default: step.default ?? [] }, valid: options !== undefined }
      }
      case 'parallel': {
        const body = this.zod(stepBodies.parallel, step.parallel, at)
        if (!body) return undefined
        const branches = body.map((branch, i) => {
          const own = branch.device && this.checkDevices(branch.device, [...at, i, 'device'], devices)
          return own ? { devices: own, steps: branch.steps } : { steps: branch.steps }
        })
        return valid({ kind, branches })
      }
      case 'publish': {
        const body = this.zod(stepBodies.publish, step.publish, at)
        if (!body) return undefined
        this.checkTemplatesDeep(body.payload, [...at, 'payload'])
        return valid({ kind, topic: body.topic, payload: body.payload, retain: body.retain, qos: body.qos })
      }
      case 'log': {
        const body = this.zod(stepBodies.log, step.log, at)
        if (body === undefined) return undefined
        return valid(
          typeof body === 'string'
            ? { kind, message: body, level: 'info' }
            : { kind, message: body.message, level: body.level },
        )
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
    return parseField(schema, value, path, this.report)
  }
}

/**
 * Reads `value` (found at `path`) with `schema`; reports each problem at its own field and returns undefined
 * when there was one.
 */
export function parseField<S extends z.ZodType>(
  schema: S,
  value: unknown,
  path: FieldPath,
  report: ProblemSink,
  unknownKey: (key: string) => string = (key) => `unknown field '${key}'`,
): z.output<S> | undefined {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) report([...path, ...issue.path, key], unknownKey(key))
    } else {
      report([...path, ...issue.path], issue.message)
    }
  }
  return undefined
}

function valid(step: StepOf<unknown>): OwnFields {
  return { step, valid: true }
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T
}

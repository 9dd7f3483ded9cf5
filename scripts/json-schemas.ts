/**
 * The editor schemas (schemas/*.schema.json) made from the zod schemas that `genlock validate` uses, so the two
 * cannot drift: descriptions and examples come from each schema's `.meta()`, and so does the JSON form of a value
 * zod reads with a transform (a duration, a condition, on_preempt), which zod alone would describe as `{}`.
 * Steps and triggers are read item by item (parse-steps.ts, parse-triggers.ts), so here they become one JSON
 * definition each, built from the same per-kind schemas.
 */
import { z } from 'zod'
import { configSchema } from '../src/config/config.js'
import { deviceSchema } from '../src/devices/device-schema.js'
import { automationFile, condition, timeWindow, triggerBodies } from '../src/automation/automation-schema.js'
import { COMPANION_KEYS, STEP_KINDS, stepBodies } from '../src/automation/step-schema.js'

type JsonSchema = Record<string, unknown>

/** The schema files, by name: schemas/<name>.schema.json. */
export const SCHEMA_NAMES = ['config', 'device', 'automation'] as const

/** The schemas the Home Assistant add-on seeds /config with (it writes config.yaml itself). */
export const ADDON_SCHEMA_NAMES = ['device', 'automation'] as const
export type SchemaName = (typeof SCHEMA_NAMES)[number]

/** JSON Schema draft 7: what the YAML extension of VS Code (yaml-language-server) supports best. */
function toJson(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: 'draft-07',
    // The file as written, not as parsed: a duration is "5s" there, not 5000.
    io: 'input',
    unrepresentable: 'throw',
    override: ({ zodSchema, jsonSchema }) => {
      // zod drops examples from a transform's input side (they would describe its output); ours describe the input.
      const meta = z.globalRegistry.get(zodSchema)
      if (Array.isArray(meta?.examples) && jsonSchema.examples === undefined) jsonSchema.examples = meta.examples
    },
  }) as JsonSchema
  delete json.$schema
  return json
}

const STEP_TEXT: Readonly<Record<string, string>> = {
  set: 'Set the bulbs: on, brightness, color, color_temp, transition.',
  wait: 'Wait this long.',
  repeat: 'Run steps again: count times, while or until a condition holds, or forever.',
  wait_for: 'Wait for an MQTT message or a condition, with an optional timeout.',
  if: 'Run then (or else) by a condition.',
  choose: 'Run the steps of the first option whose condition holds, or default.',
  parallel: 'Run branches at the same time, each on its own devices.',
  publish: 'Publish an MQTT message.',
  log: 'Write a line to the log.',
}

const COMPANION_TEXT: Readonly<Record<string, string>> = {
  then: 'The steps to run when the condition holds.',
  else: 'The steps to run when it does not.',
  default: 'The steps to run when no option matches.',
}

const COMPANION_EXAMPLES: Readonly<Record<string, unknown[]>> = {
  then: [[{ log: 'hall already lit; leaving it alone' }]],
  else: [[{ set: { on: true, brightness: 15 } }]],
  default: [[{ set: { on: false } }]],
}

/** `then` is a step list; `else` and `default` may be left empty (null), as parse-steps.ts reads them. */
function companionJson(key: string): JsonSchema {
  const steps = { $ref: '#/definitions/steps' }
  const text = { description: COMPANION_TEXT[key], examples: COMPANION_EXAMPLES[key] }
  return key === 'then' ? { ...steps, ...text } : { ...text, anyOf: [steps, { type: 'null' }] }
}

/** A step: a map with exactly one step kind's key (and that kind's companion keys). */
function stepDefinition(): JsonSchema {
  return {
    description: `One step: a map with one of ${STEP_KINDS.join(', ')}.`,
    anyOf: STEP_KINDS.map((kind) => {
      const companions = COMPANION_KEYS[kind] ?? []
      return {
        // Editors label a completion of this branch `object(<title>)`.
        title: `${kind} step`,
        type: 'object',
        description: STEP_TEXT[kind],
        properties: {
          [kind]: toJson(stepBodies[kind]),
          ...Object.fromEntries(companions.map((key) => [key, companionJson(key)])),
        },
        required: kind === 'if' ? [kind, 'then'] : [kind],
        additionalProperties: false,
      }
    }),
  }
}

/** A trigger: a map with exactly one trigger kind's key. */
function triggerDefinition(): JsonSchema {
  return {
    description: `One trigger: a map with one of ${Object.keys(triggerBodies).join(', ')}.`,
    anyOf: Object.entries(triggerBodies).map(([kind, body]) => ({ title: `${kind} trigger`, ...toJson(body) })),
  }
}

/** Every schema file's content. */
export function buildSchemas(): Record<SchemaName, JsonSchema> {
  const schema = (name: SchemaName, body: JsonSchema, definitions: JsonSchema = {}): JsonSchema => ({
    $schema: 'http://json-schema.org/draft-07/schema#',
    ...body,
    ...(Object.keys(definitions).length > 0 ? { definitions } : {}),
  })
  return {
    config: schema('config', toJson(configSchema)),
    device: schema('device', toJson(deviceSchema)),
    automation: schema('automation', toJson(automationFile), {
      steps: {
        type: 'array',
        description: 'A list of steps, run one after the other.',
        items: { $ref: '#/definitions/step' },
      },
      step: stepDefinition(),
      trigger: triggerDefinition(),
      condition: toJson(condition),
      time_window: toJson(timeWindow),
    }),
  }
}

/** A schema file's text as committed: two-space JSON with a final newline (prettier leaves it as it is). */
export function schemaText(schema: JsonSchema): string {
  return `${JSON.stringify(schema, null, 2)}\n`
}

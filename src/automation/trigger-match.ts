import { isDeepStrictEqual } from 'node:util'
import { topicMatches } from '../bus/index.js'
import type { TriggerDefinition } from './definition.js'
import { compileCondition, type Condition, type ExpressionContext } from './expression.js'
import type { IncomingMessage } from './message-hub.js'

/** A trigger, stop or `wait_for` message pattern, its condition compiled. */
export interface CompiledTrigger {
  readonly topic: string
  readonly payload?: string
  readonly json?: Readonly<Record<string, unknown>>
  readonly condition?: Condition
}

export function compileTrigger(definition: TriggerDefinition): CompiledTrigger {
  const { condition, ...rest } = definition
  return condition === undefined ? rest : { ...rest, condition: compileCondition(condition) }
}

/** Why a message did not match a trigger, for debug logs; undefined when it matched. */
export function triggerMismatch(
  trigger: CompiledTrigger,
  message: IncomingMessage,
  context: (message: IncomingMessage) => ExpressionContext,
): string | undefined {
  if (!topicMatches(trigger.topic, message.topic)) return 'topic differs'
  if (trigger.payload !== undefined && message.payload !== trigger.payload) return 'payload differs'
  if (trigger.json !== undefined) {
    const json = message.json
    if (json === undefined) return 'payload is not JSON'
    for (const [path, expected] of Object.entries(trigger.json)) {
      if (!isDeepStrictEqual(field(json, path), expected)) return `json field ${path} differs`
    }
  }
  if (trigger.condition !== undefined && !trigger.condition.test(context(message))) return 'condition is false'
  return undefined
}

/** Reads a dotted path (`a.b.0.c`) out of parsed JSON. */
function field(value: unknown, path: string): unknown {
  let here = value
  for (const key of path.split('.')) {
    if (here === null || typeof here !== 'object') return undefined
    here = (here as Record<string, unknown>)[key]
  }
  return here
}

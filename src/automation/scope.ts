import { isDeepStrictEqual } from 'node:util'
import type { Bulb, BulbState } from '../devices/bulb.js'
import type { TriggerDefinition } from './definition.js'
import { evaluateCondition, type ExpressionContext } from './expression.js'
import type { IncomingMessage, MessageHub } from './message-hub.js'
import { topicMatches } from '../bus/index.js'

/**
 * The variables expressions read:
 * - `trigger.topic`, `trigger.payload`, `trigger.json`: the message that started the run;
 * - `last['some/topic']`, `last_json['some/topic']`: the last payload seen on a topic an automation watches;
 * - `device.<id>.on|brightness|color|color_temp|reachable`: every device's last known state;
 * - `wait.topic|payload|json`: the message that ended the last `wait_for`;
 * - `repeat.index` (from 1), `repeat.first`: inside a `repeat`;
 * - `automation`: the automation's name.
 */
export interface ScopeVariables {
  trigger: IncomingMessage | undefined
  wait?: IncomingMessage
  repeat?: { index: number; first: boolean }
}

/** A device state as expressions see it (snake_case, like the YAML). */
export function stateView(state: BulbState): Record<string, unknown> {
  return {
    on: state.on,
    brightness: state.brightness,
    color: state.color,
    color_temp: state.colorTemp,
    reachable: state.reachable,
  }
}

/** Read-only lookups, built once per engine: they read the hub and the devices at evaluation time. */
export interface SharedLookups {
  readonly last: Record<string, unknown>
  readonly lastJson: Record<string, unknown>
  readonly device: Record<string, unknown>
}

export function sharedLookups(hub: MessageHub, devices: () => ReadonlyMap<string, Bulb>): SharedLookups {
  const lookup = (read: (key: string) => unknown) =>
    new Proxy({} as Record<string, unknown>, {
      get: (_target, key) => (typeof key === 'string' ? read(key) : undefined),
    })
  return {
    last: lookup((topic) => hub.last(topic)?.payload),
    lastJson: lookup((topic) => hub.last(topic)?.json),
    device: lookup((id) => {
      const bulb = devices().get(id)
      return bulb && stateView(bulb.state)
    }),
  }
}

/** The context for one evaluation. */
export function expressionContext(name: string, vars: ScopeVariables, shared: SharedLookups): ExpressionContext {
  return {
    automation: name,
    trigger: vars.trigger,
    wait: vars.wait,
    repeat: vars.repeat,
    last: shared.last,
    last_json: shared.lastJson,
    device: shared.device,
  }
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

/** Why a message did not match a trigger, for debug logs; undefined when it matched. */
export function triggerMismatch(
  trigger: TriggerDefinition,
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
  if (trigger.condition !== undefined && !evaluateCondition(trigger.condition, context(message))) {
    return 'condition is false'
  }
  return undefined
}

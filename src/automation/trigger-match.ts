import { isDeepStrictEqual } from 'node:util'
import { topicMatches } from '../bus/index.js'
import type { Cancel, Clock } from './clock.js'
import { compileAnyCondition } from './condition.js'
import type {
  MqttTriggerDefinition,
  ScheduleTriggerDefinition,
  StateTriggerDefinition,
  TriggerDefinition,
} from './definition.js'
import type { Condition, ExpressionContext } from './expression.js'
import type { IncomingMessage } from './message-hub.js'
import { scheduleOf, type Schedule, type ScheduleSetting } from './schedule.js'

/** A trigger or stop compiled: what the run stage arms (trigger-watch.ts). */
export type CompiledTrigger = CompiledMqttTrigger | CompiledScheduleTrigger | CompiledStateTrigger

/** A trigger, stop or `wait_for` message pattern, its condition compiled. */
export interface CompiledMqttTrigger {
  readonly kind: 'mqtt'
  readonly topic: string
  readonly payload?: string
  readonly json?: Readonly<Record<string, unknown>>
  readonly condition?: Condition
  /** ms a match must hold before it fires (`for:`). */
  readonly for?: number
}

/** An `at`, `cron` or `sun` trigger with its occurrences. */
export interface CompiledScheduleTrigger {
  readonly kind: ScheduleTriggerDefinition['kind']
  readonly definition: ScheduleTriggerDefinition
  /** Undefined when it cannot fire: a sun trigger without a location (`problem` says so). */
  readonly schedule?: Schedule
  readonly problem?: string
  readonly condition?: Condition
  readonly catchUp?: number
}

/** A bulb's state change to react to. */
export type CompiledStateTrigger = Omit<StateTriggerDefinition, 'condition'> & { readonly condition?: Condition }

/** The message that says a sun trigger cannot be used here: one text for validation and the run stage. */
export const SUN_NEEDS_LOCATION =
  'a sun trigger needs the location: set location: { latitude, longitude } in config.yaml'

/** Compiles a trigger or stop; `setting` gives its schedule a time zone and a location. */
export function compileTrigger(definition: TriggerDefinition, setting: ScheduleSetting): CompiledTrigger {
  const condition = definition.condition === undefined ? {} : { condition: compileAnyCondition(definition.condition) }
  switch (definition.kind) {
    case 'mqtt':
      return compileMqttTrigger(definition)
    case 'state': {
      const { device, to, from } = definition
      return {
        kind: 'state',
        device,
        ...(to === undefined ? {} : { to }),
        ...(from === undefined ? {} : { from }),
        ...(definition.for === undefined ? {} : { for: definition.for }),
        ...condition,
      }
    }
    case 'at':
    case 'cron':
    case 'sun': {
      const schedule = scheduleOf(definition, setting)
      return {
        kind: definition.kind,
        definition,
        ...(schedule ? { schedule } : { problem: SUN_NEEDS_LOCATION }),
        ...condition,
        ...(definition.catchUp === undefined ? {} : { catchUp: definition.catchUp }),
      }
    }
  }
}

/** Compiles an MQTT trigger (or a `wait_for`'s message pattern). */
export function compileMqttTrigger(definition: MqttTriggerDefinition): CompiledMqttTrigger {
  const { condition, ...rest } = definition
  return condition === undefined ? rest : { ...rest, condition: compileAnyCondition(condition) }
}

/** Why a message did not match a trigger, for debug logs; undefined when it matched. */
export function triggerMismatch(
  trigger: CompiledMqttTrigger,
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

/**
 * `for:` as in Home Assistant: a match fires only once it has held `ms` on `clock`, per key (the topic a message
 * came on, or the device). A mismatch on the key cancels the wait. Once it has fired, the key fires again only
 * after a mismatch: one run per time the condition holds, not one per message while it does.
 */
export class Hold<T> {
  private readonly pending = new Map<string, { latest: T; readonly cancel: Cancel }>()
  private readonly fired = new Set<string>()

  constructor(
    private readonly clock: Clock,
    private readonly ms: number,
    private readonly fire: (value: T) => void,
  ) {}

  /**
   * A match on `key`. `restart`: the match is a new state (a bulb changed again), so the wait starts over;
   * otherwise (another matching message) the wait goes on and `value` is what fires.
   */
  match(key: string, value: T, restart: boolean): void {
    const waiting = this.pending.get(key)
    if (waiting && !restart) {
      waiting.latest = value
      return
    }
    if (!waiting && this.fired.has(key) && !restart) return
    waiting?.cancel()
    this.fired.delete(key)
    const entry = {
      latest: value,
      cancel: this.clock.after(this.ms, () => {
        this.pending.delete(key)
        this.fired.add(key)
        this.fire(entry.latest)
      }),
    }
    this.pending.set(key, entry)
  }

  /** The condition no longer holds on `key`. */
  mismatch(key: string): void {
    this.pending.get(key)?.cancel()
    this.pending.delete(key)
    this.fired.delete(key)
  }

  /** Cancels every wait (the trigger is unsubscribed). */
  clear(): void {
    for (const entry of this.pending.values()) entry.cancel()
    this.pending.clear()
    this.fired.clear()
  }
}

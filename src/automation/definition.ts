import type { Weekday } from './local-time.js'

/**
 * An automation as loaded from its YAML file: plain, JSON-comparable data (durations in ms, expressions as
 * their source text). The engine compiles it into generator transactions; hot reload compares two of these to
 * decide whether a running automation changed.
 */
export interface AutomationDefinition {
  readonly name: string
  readonly description?: string
  readonly enabled: boolean
  readonly priority: number
  /** Device ids, all taken as one lock. */
  readonly devices: readonly string[]
  readonly trigger: readonly TriggerDefinition[]
  readonly stop: readonly TriggerDefinition[]
  readonly onPreempt: PreemptPolicy
  /** What a failing step (an unreachable bulb, a bad template value) does: end the run, or go on to the next step. */
  readonly onError: 'abort' | 'continue'
  readonly restore: boolean
  /**
   * `ttl`: longest hold; `acquireTimeout`: longest wait for the lock while the lock backend answers; `outageWait`:
   * longest a trigger waits for an unreachable lock backend (Redis) to come back (default 5 minutes; 0: fail).
   */
  readonly lock: { readonly ttl?: number; readonly acquireTimeout?: number; readonly outageWait?: number }
  readonly mode: RunMode
  /** For `queued` and `parallel`: most runs at once, counting queued ones. */
  readonly max: number
  readonly steps: readonly StepDefinition[]
  /** The file it came from, for messages. */
  readonly file: string
}

export type PreemptPolicy = 'resume' | 'restart' | 'abort' | { readonly replace: string }

/** What a re-trigger does while a run is going: as in Home Assistant. */
export type RunMode = 'single' | 'restart' | 'queued' | 'parallel'

/**
 * A condition: a jexl expression (`trigger.json.level > 3`), a time window, or a list of conditions that must all
 * hold.
 */
export type ConditionDefinition = string | TimeWindowDefinition | readonly ConditionDefinition[]

/**
 * `{ after: "22:00", before: "06:00", weekday: [sat, sun] }`, in local time: `after` and `before` as seconds since
 * midnight (after ≤ now < before; an `after` later than `before` spans midnight), `weekday` the days it holds on.
 */
export interface TimeWindowDefinition {
  readonly after?: number
  readonly before?: number
  readonly weekday?: readonly Weekday[]
}

/** What starts (or, under `stop:`, ends) a run: a message, a time, the sun, or a bulb's state. */
export type TriggerDefinition =
  MqttTriggerDefinition | AtTriggerDefinition | CronTriggerDefinition | SunTriggerDefinition | StateTriggerDefinition

export type TriggerKind = TriggerDefinition['kind']

/** The triggers that fire at a time: their runs see `trigger.scheduled`, and they may catch up after a restart. */
export type ScheduleTriggerDefinition = AtTriggerDefinition | CronTriggerDefinition | SunTriggerDefinition

/** An MQTT message to react to: topic (with `+`/`#`), and optionally an exact payload, JSON fields, a condition. */
export interface MqttTriggerDefinition {
  readonly kind: 'mqtt'
  readonly topic: string
  readonly payload?: string
  /** Dotted field path → the value it must equal, e.g. `{ "action": "single" }`. */
  readonly json?: Readonly<Record<string, unknown>>
  readonly condition?: ConditionDefinition
  /** ms the match must hold (no message on that topic that does not match) before it fires. */
  readonly for?: number
}

interface ScheduleFields {
  readonly condition?: ConditionDefinition
  /** After a restart: run one occurrence missed by at most this many ms. */
  readonly catchUp?: number
}

/** `at: "07:00"` or a list: local times of day, as seconds since midnight. */
export interface AtTriggerDefinition extends ScheduleFields {
  readonly kind: 'at'
  readonly times: readonly number[]
}

/** `cron: "0 7 * * 1-5"`: 5 fields, or 6 with seconds first, in local time. */
export interface CronTriggerDefinition extends ScheduleFields {
  readonly kind: 'cron'
  readonly pattern: string
}

export const SUN_EVENTS = ['sunrise', 'sunset', 'dawn', 'dusk', 'solar_noon'] as const
export type SunEvent = (typeof SUN_EVENTS)[number]

/** `sun: sunset` with `offset` (ms, may be negative) at the configured `location`. */
export interface SunTriggerDefinition extends ScheduleFields {
  readonly kind: 'sun'
  readonly event: SunEvent
  readonly offset: number
}

/** A bulb as a state trigger sees it. */
export const DEVICE_STATES = ['on', 'off', 'unavailable'] as const
export type DeviceStateValue = (typeof DEVICE_STATES)[number]

/** `state: { device, to, from, for }`: a bulb turning on, off or unavailable, whoever did it. */
export interface StateTriggerDefinition {
  readonly kind: 'state'
  readonly device: string
  readonly to?: readonly DeviceStateValue[]
  readonly from?: readonly DeviceStateValue[]
  /** ms the new state must hold before it fires. */
  readonly for?: number
  readonly condition?: ConditionDefinition
}

/** Values of a `set` step: numbers/booleans as written, or template strings evaluated at step time. */
export interface SetValues {
  readonly on?: boolean | string
  readonly brightness?: number | string
  readonly color?: unknown
  readonly colorTemp?: number | string
  readonly transition?: number | string
}

/**
 * One step, with its nested step lists of type `List`: parsed steps hold `StepDefinition` lists, the parser's
 * half-read steps hold raw YAML, the compiler's hold compiled code. Where the nested lists are is written once,
 * in `mapChildSteps` (step-tree.ts).
 */
export type StepOf<List> =
  | { readonly kind: 'set'; readonly devices?: readonly string[]; readonly values: SetValues }
  | { readonly kind: 'wait'; readonly ms: number }
  | {
      readonly kind: 'repeat'
      readonly count?: number | string
      readonly while?: ConditionDefinition
      readonly until?: ConditionDefinition
      readonly forever?: boolean
      readonly steps: List
    }
  | {
      readonly kind: 'wait_for'
      readonly trigger?: MqttTriggerDefinition
      readonly condition?: ConditionDefinition
      readonly timeout?: number
      readonly onTimeout: 'continue' | 'abort'
    }
  | { readonly kind: 'if'; readonly condition: ConditionDefinition; readonly then: List; readonly else: List }
  | {
      readonly kind: 'choose'
      readonly options: readonly { readonly when: ConditionDefinition; readonly steps: List }[]
      readonly default: List
    }
  | {
      readonly kind: 'parallel'
      readonly branches: readonly { readonly devices?: readonly string[]; readonly steps: List }[]
    }
  | {
      readonly kind: 'publish'
      readonly topic: string
      readonly payload: unknown
      readonly retain: boolean
      readonly qos: 0 | 1
    }
  | { readonly kind: 'log'; readonly message: string; readonly level: 'debug' | 'info' | 'warn' | 'error' }

/** A step as parsed from an automation file. */
export type StepDefinition = StepOf<readonly StepDefinition[]>

export type StepKind = StepDefinition['kind']

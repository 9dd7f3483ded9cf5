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
  readonly lock: { readonly ttl?: number; readonly acquireTimeout?: number }
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

/** An MQTT message to react to: topic (with `+`/`#`), and optionally an exact payload, JSON fields, a condition. */
export interface TriggerDefinition {
  readonly topic: string
  readonly payload?: string
  /** Dotted field path → the value it must equal, e.g. `{ "action": "single" }`. */
  readonly json?: Readonly<Record<string, unknown>>
  readonly condition?: string
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
      readonly while?: string
      readonly until?: string
      readonly forever?: boolean
      readonly steps: List
    }
  | {
      readonly kind: 'wait_for'
      readonly trigger?: TriggerDefinition
      readonly condition?: string
      readonly timeout?: number
      readonly onTimeout: 'continue' | 'abort'
    }
  | { readonly kind: 'if'; readonly condition: string; readonly then: List; readonly else: List }
  | {
      readonly kind: 'choose'
      readonly options: readonly { readonly when: string; readonly steps: List }[]
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

import type { Bulb, BulbState } from '../devices/bulb.js'
import type { DeviceStateValue, ScheduleTriggerDefinition, SunEvent } from './definition.js'
import type { LocalTime } from './local-time.js'
import type { IncomingMessage, MessageHub } from './message-hub.js'

/** Read-only lookups, built once per engine: they read the hub, the devices and the clock at evaluation time. */
// A type, not an interface: the variables must stay assignable to jexl's plain-record context.
export type ExpressionLookups = {
  readonly last: Record<string, unknown>
  readonly last_json: Record<string, unknown>
  readonly device: Record<string, unknown>
  readonly now: LocalTime
}

/** `trigger` in a run started by a schedule (`at`, `cron`, `sun`). */
export type ScheduleFiring = {
  readonly kind: ScheduleTriggerDefinition['kind']
  /** When it was due, in local time with its offset: `2026-12-24T07:00:00+01:00`. */
  readonly scheduled: string
  /** When it was due, epoch ms. */
  readonly timestamp: number
  /** True when it runs late, for an occurrence missed while genlock was down (`catch_up`). */
  readonly catch_up: boolean
  /** For a sun trigger: which event. */
  readonly event?: SunEvent
}

/** `trigger` in a run started by a bulb's state change (a `state` trigger). */
export type StateChange = {
  readonly kind: 'state'
  readonly device: string
  readonly from: DeviceStateValue
  readonly to: DeviceStateValue
  /** The bulb's state as `device.<id>` shows it, when it changed. */
  readonly state: Readonly<Record<string, unknown>>
}

/** What started a run, as expressions read it from `trigger`: a message, a schedule, or a state change. */
export type TriggerData = IncomingMessage | ScheduleFiring | StateChange

/**
 * The variables expressions read, as one object that is itself the expression context (a step updates `wait`
 * and `repeat` in place, so evaluating allocates nothing):
 * - `trigger`: the message that started the run (`topic`, `payload`, `json`), or what a schedule or a state
 *   change says (ScheduleFiring, StateChange);
 * - `last['some/topic']`, `last_json['some/topic']`: the last payload seen on a topic an automation watches;
 * - `device.<id>.on|brightness|color|color_temp|reachable`: every device's last known state;
 * - `now.hour|minute|weekday|date|…`: the local time (LocalTime), read when the expression is evaluated;
 * - `wait.topic|payload|json`: the message that ended the last `wait_for`;
 * - `repeat.index` (from 1), `repeat.first`: inside a `repeat`;
 * - `automation`: the automation's name.
 */
export type RunVariables = {
  readonly automation: string
  readonly trigger: TriggerData | undefined
  wait: IncomingMessage | undefined
  repeat: { readonly index: number; readonly first: boolean } | undefined
} & ExpressionLookups

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

/** The fields of a device's state an expression can read (`device.<id>.<field>`, `trigger.state.<field>`). */
export const DEVICE_FIELDS: readonly string[] = ['on', 'brightness', 'color', 'color_temp', 'reachable']

/** A bulb as a state trigger sees it: unavailable when unreachable, else on or off. */
export function deviceStateValue(state: BulbState): DeviceStateValue {
  return !state.reachable ? 'unavailable' : state.on ? 'on' : 'off'
}

export function expressionLookups(
  hub: MessageHub,
  devices: () => ReadonlyMap<string, Bulb>,
  now: LocalTime,
): ExpressionLookups {
  const lookup = (read: (key: string) => unknown) =>
    new Proxy({} as Record<string, unknown>, {
      get: (_target, key) => (typeof key === 'string' ? read(key) : undefined),
    })
  return {
    last: lookup((topic) => hub.last(topic)?.payload),
    last_json: lookup((topic) => hub.last(topic)?.json),
    device: lookup((id) => {
      const bulb = devices().get(id)
      return bulb && stateView(bulb.state)
    }),
    now,
  }
}

/** The variables of a run started by `trigger` (also what a trigger's own condition reads). */
export function runVariables(
  automation: string,
  trigger: TriggerData | undefined,
  lookups: ExpressionLookups,
): RunVariables {
  return {
    automation,
    trigger,
    wait: undefined,
    repeat: undefined,
    last: lookups.last,
    last_json: lookups.last_json,
    device: lookups.device,
    now: lookups.now,
  }
}

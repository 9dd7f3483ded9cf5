import type { Bulb, BulbState } from '../devices/bulb.js'
import type { IncomingMessage, MessageHub } from './message-hub.js'

/** Read-only lookups, built once per engine: they read the hub and the devices at evaluation time. */
// A type, not an interface: the variables must stay assignable to jexl's plain-record context.
export type ExpressionLookups = {
  readonly last: Record<string, unknown>
  readonly last_json: Record<string, unknown>
  readonly device: Record<string, unknown>
}

/**
 * The variables expressions read, as one object that is itself the expression context (a step updates `wait`
 * and `repeat` in place, so evaluating allocates nothing):
 * - `trigger.topic`, `trigger.payload`, `trigger.json`: the message that started the run;
 * - `last['some/topic']`, `last_json['some/topic']`: the last payload seen on a topic an automation watches;
 * - `device.<id>.on|brightness|color|color_temp|reachable`: every device's last known state;
 * - `wait.topic|payload|json`: the message that ended the last `wait_for`;
 * - `repeat.index` (from 1), `repeat.first`: inside a `repeat`;
 * - `automation`: the automation's name.
 */
export type RunVariables = {
  readonly automation: string
  readonly trigger: IncomingMessage | undefined
  wait: IncomingMessage | undefined
  repeat: { readonly index: number; readonly first: boolean } | undefined
} & ExpressionLookups

/** A device state as expressions see it (snake_case, like the YAML). */
function stateView(state: BulbState): Record<string, unknown> {
  return {
    on: state.on,
    brightness: state.brightness,
    color: state.color,
    color_temp: state.colorTemp,
    reachable: state.reachable,
  }
}

export function expressionLookups(hub: MessageHub, devices: () => ReadonlyMap<string, Bulb>): ExpressionLookups {
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
  }
}

/** The variables of a run started by `trigger` (also what a trigger's own condition reads). */
export function runVariables(
  automation: string,
  trigger: IncomingMessage | undefined,
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
  }
}

import type { Logger } from 'pino'
import type { Bulb, BulbEvent } from '../devices/bulb.js'
import type { TriggerSource } from './automation-run.js'
import type { Cancel, Clock } from './clock.js'
import type { Condition } from './expression.js'
import {
  deviceStateValue,
  runVariables,
  stateView,
  type ExpressionLookups,
  type ScheduleFiring,
  type StateChange,
  type TriggerData,
} from './expression-context.js'
import { localTime } from './local-time.js'
import type { IncomingMessage, MessageHub } from './message-hub.js'
import type { ScheduleMemory } from './schedule-memory.js'
import type { WarnLimit } from './warn-limit.js'
import {
  Hold,
  triggerMismatch,
  type CompiledMqttTrigger,
  type CompiledScheduleTrigger,
  type CompiledStateTrigger,
  type CompiledTrigger,
} from './trigger-match.js'

/** What arming a trigger needs: built once per automation from the engine's services. */
export interface TriggerWatchContext {
  readonly automation: string
  readonly hub: MessageHub
  readonly clock: Clock
  /** Undefined: the machine's own. */
  readonly timeZone: string | undefined
  /** Every device by id, as the engine has them now (a state trigger follows its device's bulb). */
  readonly devices: ReadonlyMap<string, Bulb>
  readonly memory: ScheduleMemory
  readonly lookups: ExpressionLookups
  readonly logger: Logger
  /** Where warnings about the messages it drops go: at most one of a kind a minute, so junk cannot flood the log. */
  readonly warnings: WarnLimit
}

/** Called when a trigger fires: what the run's `trigger` is, and where it came from. */
export type OnFire = (trigger: TriggerData, source: TriggerSource) => void

/** `trigger` starts runs, `stop` ends them: the same kinds, named in logs. */
export type TriggerRole = 'trigger' | 'stop'

/**
 * An occurrence due longer ago than this was missed, not late: the wall clock jumped or the machine slept. It
 * runs only under `catch_up`. One minute: a busy Pi's event loop lags by far less; a wall clock checked every
 * minute (clock.ts) can find an occurrence up to that late.
 */
const MISSED_AFTER_MS = 60_000

/**
 * Arms one trigger (or stop): a subscription for a message, a timer for a schedule, a bulb listener for a state
 * change; calls `onFire` as it fires. Returns the function that disarms it.
 */
export function watchTrigger(
  trigger: CompiledTrigger,
  role: TriggerRole,
  context: TriggerWatchContext,
  onFire: OnFire,
): Cancel {
  switch (trigger.kind) {
    case 'mqtt':
      return watchMessages(trigger, role, context, onFire)
    case 'state':
      return watchState(trigger, role, context, onFire)
    case 'at':
    case 'cron':
    case 'sun':
      return watchSchedule(trigger, role, context, onFire)
  }
}

function watchMessages(trigger: CompiledMqttTrigger, role: TriggerRole, context: TriggerWatchContext, onFire: OnFire) {
  const matches = (message: IncomingMessage) => messageMatches(trigger, message, role, context)
  if (trigger.for === undefined) {
    // The benchmarked path (issue 18): one check and the run, nothing else per message.
    return context.hub.watch(trigger.topic, (message) => {
      if (matches(message)) onFire(message, 'mqtt')
    })
  }
  const hold = new Hold<IncomingMessage>(context.clock, trigger.for, (message) => onFire(message, 'mqtt'))
  const unsubscribe = context.hub.watch(trigger.topic, (message) => {
    if (matches(message)) hold.match(message.topic, message, false)
    else hold.mismatch(message.topic)
  })
  return () => {
    unsubscribe()
    hold.clear()
  }
}

function messageMatches(
  trigger: CompiledMqttTrigger,
  message: IncomingMessage,
  role: TriggerRole,
  context: TriggerWatchContext,
): boolean {
  let mismatch: string | undefined
  try {
    mismatch = triggerMismatch(trigger, message, (m) => runVariables(context.automation, m, context.lookups))
  } catch (error) {
    // No stack trace: the message is the problem, not genlock's code (a junk flood once logged 7 MB per 30 s).
    context.warnings.warn(
      `${role} condition ${trigger.topic}`,
      { topic: message.topic },
      `${role} condition failed; message dropped: ${String(error)}`,
    )
    return false
  }
  if (mismatch === undefined) return true
  if (mismatch === 'payload is not JSON') {
    context.warnings.warn(
      `${role} not JSON ${trigger.topic}`,
      { topic: message.topic },
      `${role}: payload on ${message.topic} is not JSON; dropped`,
    )
  } else {
    context.logger.debug({ topic: message.topic }, `${role} not matched: ${mismatch}`)
  }
  return false
}

/** True when the trigger's condition holds for `data`; a failing condition is logged and counts as false. */
function conditionHolds(
  condition: Condition | undefined,
  data: TriggerData,
  role: TriggerRole,
  context: TriggerWatchContext,
): boolean {
  if (!condition) return true
  try {
    if (condition.test(runVariables(context.automation, data, context.lookups))) return true
    context.logger.debug(`${role} not fired: condition is false`)
  } catch (error) {
    context.warnings.warn(`${role} condition`, {}, `${role} condition failed; not fired: ${String(error)}`)
  }
  return false
}

function watchState(trigger: CompiledStateTrigger, role: TriggerRole, context: TriggerWatchContext, onFire: OnFire) {
  const bulb = context.devices.get(trigger.device)
  if (!bulb) {
    context.logger.error(`${role} on device '${trigger.device}' not armed: no such device`)
    return () => {}
  }
  const fire = (change: StateChange) => {
    if (conditionHolds(trigger.condition, change, role, context)) onFire(change, 'state')
  }
  const hold = trigger.for === undefined ? undefined : new Hold<StateChange>(context.clock, trigger.for, fire)
  let last = deviceStateValue(bulb.state)
  const unsubscribe = bulb.subscribe((event: BulbEvent) => {
    const state = event.type === 'state' ? event.state : { ...bulb.state, reachable: event.reachable }
    const value = deviceStateValue(state)
    if (value === last) return
    const change: StateChange = {
      kind: 'state',
      device: trigger.device,
      from: last,
      to: value,
      state: stateView(state),
    }
    last = value
    const wanted = (!trigger.to || trigger.to.includes(value)) && (!trigger.from || trigger.from.includes(change.from))
    if (!wanted) hold?.mismatch(trigger.device)
    else if (hold) hold.match(trigger.device, change, true)
    else fire(change)
  })
  return () => {
    unsubscribe()
    hold?.clear()
  }
}

/** The catch-up record's key of a schedule trigger of `automation`. */
export function scheduleKey(automation: string, trigger: CompiledScheduleTrigger): string {
  return `${automation}|${trigger.schedule?.description ?? trigger.kind}`
}

function watchSchedule(
  trigger: CompiledScheduleTrigger,
  role: TriggerRole,
  context: TriggerWatchContext,
  onFire: OnFire,
): Cancel {
  const { schedule } = trigger
  const { clock, logger, memory } = context
  if (!schedule) {
    logger.error(`${role} not armed: ${trigger.problem}`)
    return () => {}
  }
  const key = scheduleKey(context.automation, trigger)
  const remember = trigger.catchUp !== undefined && role === 'trigger'
  let cancel: Cancel = () => {}
  let stopped = false

  const fire = (time: number, late: boolean) => {
    const local = localTime(time, context.timeZone)
    const firing: ScheduleFiring = {
      kind: trigger.kind,
      scheduled: local.iso,
      timestamp: time,
      catch_up: late,
      ...(trigger.definition.kind === 'sun' ? { event: trigger.definition.event } : {}),
    }
    if (remember) memory.handled(key, time)
    if (conditionHolds(trigger.condition, firing, role, context)) onFire(firing, 'schedule')
  }
  const arm = (from: number) => {
    const next = schedule.next(from)
    if (next === undefined) {
      logger.warn(`${role} ${schedule.description}: no occurrence within a year; not armed`)
      return
    }
    cancel = clock.at(next, () => due(next))
  }
  const due = (time: number) => {
    const late = clock.now() - time
    if (late <= MISSED_AFTER_MS) fire(time, false)
    else if (trigger.catchUp !== undefined && late <= trigger.catchUp && role === 'trigger') fire(time, true)
    else {
      logger.warn(
        `${role} ${schedule.description}: missed the occurrence at ${localTime(time, context.timeZone).iso} ` +
          `(the clock jumped ${Math.round(late / 1000)} s); not run`,
      )
      if (remember) memory.handled(key, time)
    }
    arm(Math.max(time, clock.now()))
  }
  const catchUp = () => {
    if (stopped) return
    const now = clock.now()
    const handled = memory.handledUntil(key)
    memory.handled(key, now)
    const missed = schedule.previous(now)
    if (handled === undefined || missed === undefined || missed <= handled || now - missed > trigger.catchUp!) return
    logger.info(
      `${schedule.description}: missed at ${localTime(missed, context.timeZone).iso} while genlock was down; ` +
        `catching up (catch_up: ${trigger.catchUp} ms)`,
    )
    fire(missed, true)
  }

  arm(clock.now())
  if (remember) void memory.load().then(catchUp)
  return () => {
    stopped = true
    cancel()
  }
}

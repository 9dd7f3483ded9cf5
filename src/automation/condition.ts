import type { ConditionDefinition, TimeWindowDefinition } from './definition.js'
import { compileCondition, type Condition, type ExpressionContext } from './expression.js'
import { secondOfDay, timeOfDayText, type LocalTime } from './local-time.js'

/**
 * Compiles any condition an automation file may hold: an expression, a time window, or a list of conditions that
 * must all hold. A time window reads `now` from the context it is tested in (the engine's clock, in the
 * configured time zone), as expressions do.
 *
 * @example
 * compileAnyCondition({ after: '22:00', before: '06:00' }).test(variables) // true at 23:30 and at 05:59
 */
export function compileAnyCondition(definition: ConditionDefinition): Condition {
  if (typeof definition === 'string') return compileCondition(definition)
  if (isList(definition)) {
    const parts = definition.map(compileAnyCondition)
    return {
      test: (context) => parts.every((part) => part.test(context)),
      topicsRead: parts.flatMap((part) => part.topicsRead),
    }
  }
  const window = definition
  return { test: (context) => inTimeWindow(window, nowOf(context)), topicsRead: [] }
}

/**
 * True when `now` is inside `window`: `after` ≤ time of day < `before` (a window whose `after` is later than its
 * `before` spans midnight: 22:00–06:00 holds at 23:00 and at 05:00), on one of its `weekday`s (the day it is
 * now, as in Home Assistant's time condition).
 */
export function inTimeWindow(window: TimeWindowDefinition, now: LocalTime): boolean {
  if (window.weekday && !window.weekday.includes(now.weekday)) return false
  const { after, before } = window
  const time = secondOfDay(now)
  if (after !== undefined && before !== undefined && after > before) return time >= after || time < before
  return (after === undefined || time >= after) && (before === undefined || time < before)
}

/** A condition as log lines show it. */
export function describeCondition(definition: ConditionDefinition): string {
  if (typeof definition === 'string') return definition
  if (isList(definition)) return definition.map(describeCondition).join(' and ')
  const parts = [
    definition.after === undefined ? '' : `after ${timeOfDayText(definition.after)}`,
    definition.before === undefined ? '' : `before ${timeOfDayText(definition.before)}`,
    definition.weekday === undefined ? '' : `on ${definition.weekday.join(', ')}`,
  ]
  return parts.filter(Boolean).join(' ')
}

function isList(definition: ConditionDefinition): definition is readonly ConditionDefinition[] {
  return Array.isArray(definition)
}

function nowOf(context: ExpressionContext): LocalTime {
  const now = context.now as LocalTime | undefined
  if (!now) throw new Error('a time window needs the engine clock (no `now` in this context)')
  return now
}

import { Cron } from 'croner'
import { getTimes, type SunTimeName } from 'suncalc'
import type { ScheduleTriggerDefinition, SunEvent } from './definition.js'
import { durationText } from './duration.js'
import { systemTimeZone, timeOfDayText } from './local-time.js'

/**
 * When `at`, `cron` and `sun` triggers fire, as pure date arithmetic: croner for clock times (its DST rule is
 * ours: a fixed time in the hour a spring change skips fires once right after the jump, a time the autumn change
 * repeats fires once), suncalc for the sun. Nothing here reads the clock or sets a timer.
 */

/** Where sun triggers are computed. */
export interface Location {
  readonly latitude: number
  readonly longitude: number
}

/** Occurrences of one trigger. */
export interface Schedule {
  /** The first occurrence after `from` (epoch ms), or undefined when there is none within a year. */
  next(from: number): number | undefined
  /** The last occurrence at or before `at`, or undefined when there is none within a year. */
  previous(at: number): number | undefined
  /** `at 07:00`, `cron 0 7 * * 1-5`, `sunset -30m`: for logs and the catch-up record. */
  readonly description: string
}

/** Where a schedule's local times are. */
export interface ScheduleSetting {
  /** IANA time zone name; undefined: the machine's own. */
  readonly timeZone?: string | undefined
  readonly location?: Location | undefined
}

const CRON_MODE = '5-or-6-parts'
const DAY_MS = 86_400_000
/** How far a sun event is looked for: past a polar night or day, at most a year away. */
const SUN_SEARCH_DAYS = 370

/** What is wrong with a cron pattern (wrong field count, a value out of range), or undefined. */
export function cronProblem(pattern: string): string | undefined {
  try {
    new Cron(pattern, { mode: CRON_MODE })
    return undefined
  } catch (error) {
    return (error as Error).message.replace(/^CronPattern: /, '')
  }
}

/** The occurrences of a schedule trigger; a sun trigger without a location has none (undefined). */
export function scheduleOf(trigger: ScheduleTriggerDefinition, setting: ScheduleSetting): Schedule | undefined {
  switch (trigger.kind) {
    case 'at':
      return clockTimes(trigger.times, setting.timeZone)
    case 'cron':
      return cronSchedule(trigger.pattern, setting.timeZone, `cron ${trigger.pattern}`)
    case 'sun':
      return setting.location && sunSchedule(trigger.event, trigger.offset, setting.location)
  }
}

function cronSchedule(pattern: string, timeZone: string | undefined, description: string): Schedule {
  // `legacyMode` left at croner's default: day-of-month OR day-of-week, as every crontab reads them.
  const cron = new Cron(pattern, { mode: CRON_MODE, timezone: timeZone ?? systemTimeZone() })
  return {
    description,
    next: (from) => cron.nextRun(new Date(from))?.getTime(),
    previous: (at) => cron.previousRuns(1, new Date(at + 1))[0]?.getTime(),
  }
}

function clockTimes(times: readonly number[], timeZone: string | undefined): Schedule {
  const each = times.map((seconds) => {
    const pattern = `${seconds % 60} ${Math.floor(seconds / 60) % 60} ${Math.floor(seconds / 3600)} * * *`
    return cronSchedule(pattern, timeZone, '')
  })
  return {
    description: `at ${times.map(timeOfDayText).join(', ')}`,
    next: (from) => earliest(each.map((schedule) => schedule.next(from))),
    previous: (at) => latest(each.map((schedule) => schedule.previous(at))),
  }
}

const SUN_TIME: Readonly<Record<SunEvent, SunTimeName | 'solarNoon'>> = {
  sunrise: 'sunrise',
  sunset: 'sunset',
  dawn: 'dawn',
  dusk: 'dusk',
  solar_noon: 'solarNoon',
}

function sunSchedule(event: SunEvent, offset: number, location: Location): Schedule {
  const name = SUN_TIME[event]
  /** The event (offset applied) of the solar day around `time`; undefined where the sun does not do it that day. */
  const on = (time: number): number | undefined => {
    const found = getTimes(new Date(time), location.latitude, location.longitude)[name]
    return found instanceof Date ? found.getTime() + offset : undefined
  }
  return {
    description: `${event}${offset === 0 ? '' : ` ${offset > 0 ? '+' : ''}${durationText(offset)}`}`,
    next(from) {
      // Day by day from the day before (an offset can move yesterday's event past `from`), the first one after it.
      for (let day = -1; day <= SUN_SEARCH_DAYS; day++) {
        const time = on(from + day * DAY_MS)
        if (time !== undefined && time > from) return time
      }
      return undefined
    },
    previous(at) {
      for (let day = 1; day >= -SUN_SEARCH_DAYS; day--) {
        const time = on(at + day * DAY_MS)
        if (time !== undefined && time <= at) return time
      }
      return undefined
    },
  }
}

function earliest(times: readonly (number | undefined)[]): number | undefined {
  let found: number | undefined
  for (const time of times) if (time !== undefined && (found === undefined || time < found)) found = time
  return found
}

function latest(times: readonly (number | undefined)[]): number | undefined {
  let found: number | undefined
  for (const time of times) if (time !== undefined && (found === undefined || time > found)) found = time
  return found
}

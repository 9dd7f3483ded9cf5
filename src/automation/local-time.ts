import type { Clock } from './clock.js'

/**
 * Local time in the configured `timezone` (an IANA name), read with the runtime's own time zone data (Intl):
 * what `now` in expressions shows and what time windows compare. A zone left undefined is the machine's own; Intl
 * reads it then, so a daemon whose automations never look at the time never loads the time zone data (~6 MB).
 */

/** Weekdays as automation files write them, Monday first (ISO 8601). */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const
export type Weekday = (typeof WEEKDAYS)[number]

/** A moment as a clock on the wall in `timezone` shows it. */
export interface LocalTime {
  readonly year: number
  /** 1–12. */
  readonly month: number
  readonly day: number
  /** 0–23. */
  readonly hour: number
  readonly minute: number
  readonly second: number
  /** `mon` … `sun`. */
  readonly weekday: Weekday
  /** 1 (Monday) – 7 (Sunday). */
  readonly isoweekday: number
  /** `2026-12-24`. */
  readonly date: string
  /** `06:55:00`. */
  readonly time: string
  /** `2026-12-24T06:55:00+01:00`. */
  readonly iso: string
  /** Epoch milliseconds. */
  readonly timestamp: number
}

const formats = new Map<string | undefined, Intl.DateTimeFormat>()

function format(timeZone: string | undefined): Intl.DateTimeFormat {
  let found = formats.get(timeZone)
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    })
    formats.set(timeZone, found)
  }
  return found
}

/** The time zone this machine is set to (`TZ`, /etc/localtime), as an IANA name. */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone
}

/** `epochMs` as the wall clock in `timeZone` shows it; undefined: the machine's own zone. */
export function localTime(epochMs: number, timeZone: string | undefined): LocalTime {
  const parts: Record<string, string> = {}
  for (const part of format(timeZone).formatToParts(epochMs)) parts[part.type] = part.value
  const year = Number(parts.year)
  const month = Number(parts.month)
  const day = Number(parts.day)
  const hour = Number(parts.hour)
  const minute = Number(parts.minute)
  const second = Number(parts.second)
  const weekday = parts.weekday!.toLowerCase() as Weekday
  const offsetMinutes = Math.round((Date.UTC(year, month - 1, day, hour, minute, second) - epochMs) / 60_000)
  const date = `${year}-${pad(month)}-${pad(day)}`
  const time = `${pad(hour)}:${pad(minute)}:${pad(second)}`
  return {
    year,
    month,
    day,
    hour,
    minute,
    second,
    weekday,
    isoweekday: WEEKDAYS.indexOf(weekday) + 1,
    date,
    time,
    iso: `${date}T${time}${offsetText(offsetMinutes)}`,
    timestamp: epochMs,
  }
}

/** Every field of a {@link LocalTime}, for views that build one field by field. */
const LOCAL_TIME_FIELDS = Object.keys({
  year: true,
  month: true,
  day: true,
  hour: true,
  minute: true,
  second: true,
  weekday: true,
  isoweekday: true,
  date: true,
  time: true,
  iso: true,
  timestamp: true,
} satisfies Record<keyof LocalTime, true>) as (keyof LocalTime)[]

/**
 * `now` as expressions see it: every field reads `clock` when it is read (a long run sees the time move on),
 * computed once per clock reading.
 */
export function nowView(clock: Clock, timeZone: string | undefined): LocalTime {
  let at = NaN
  let current: LocalTime | undefined
  const read = (): LocalTime => {
    const time = clock.now()
    if (time !== at || !current) {
      at = time
      current = localTime(time, timeZone)
    }
    return current
  }
  const view = {} as LocalTime
  for (const key of LOCAL_TIME_FIELDS) {
    Object.defineProperty(view, key, { enumerable: true, get: () => read()[key] })
  }
  return view
}

/** The seconds since midnight of a time of day written `HH:MM` or `HH:MM:SS` (24-hour); undefined otherwise. */
export function parseTimeOfDay(text: string): number | undefined {
  const match = /^\s*([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?\s*$/.exec(text)
  if (!match) return undefined
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3] ?? 0)
}

/** `seconds` since midnight as `HH:MM` (or `HH:MM:SS` when it has seconds). */
export function timeOfDayText(seconds: number): string {
  const text = `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}`
  return seconds % 60 === 0 ? text : `${text}:${pad(seconds % 60)}`
}

/** Seconds since local midnight. */
export function secondOfDay(time: LocalTime): number {
  return time.hour * 3600 + time.minute * 60 + time.second
}

function pad(value: number): string {
  return String(value).padStart(2, '0')
}

function offsetText(minutes: number): string {
  if (minutes === 0) return '+00:00'
  const sign = minutes < 0 ? '-' : '+'
  const size = Math.abs(minutes)
  return `${sign}${pad(Math.floor(size / 60))}:${pad(size % 60)}`
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
/** The keys of a duration written as a map, as Home Assistant users write them (`{ minutes: 2 }`). */
const MAP_UNITS: Readonly<Record<string, number>> = {
  days: 86_400_000,
  hours: 3_600_000,
  minutes: 60_000,
  seconds: 1000,
  milliseconds: 1,
}
/** The longest timer Node can set (about 24.8 days); a longer one would fire at once. */
export const MAX_DURATION_MS = 2_147_483_647

/** The map form's keys as JSON Schema properties; `minimum` 0 for durations, none for offsets. */
function mapUnitsJson(minimum: number | undefined): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(MAP_UNITS).map((key) => [
      key,
      {
        type: 'number',
        ...(minimum === undefined ? {} : { minimum }),
        description: `${key}.`,
        examples: [key === 'days' ? 1 : 2],
      },
    ]),
  )
}

const MAP_FORM_TEXT = 'days, hours, minutes, seconds, milliseconds, as Home Assistant writes them'

/** The forms parseDuration reads, as JSON Schema for the editor schemas (the total's limit is not checked there). */
export const DURATION_JSON_FORMS: readonly Record<string, unknown>[] = [
  {
    type: 'string',
    pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)\\s*$',
    description: 'A number and a unit: ms, s, m or h.',
  },
  {
    type: 'string',
    pattern: '^\\s*\\d+:[0-5]\\d(:[0-5]\\d(\\.\\d+)?)?\\s*$',
    description: 'HH:MM or HH:MM:SS (seconds may have a fraction), as Home Assistant writes it.',
  },
  { type: 'number', minimum: 0, maximum: MAX_DURATION_MS, description: 'A number of milliseconds.' },
  {
    type: 'object',
    description: `A map of ${MAP_FORM_TEXT}.`,
    minProperties: 1,
    additionalProperties: false,
    properties: mapUnitsJson(0),
  },
]

/** parseOffset's forms: a duration that may be negative (a leading `-`, a negative number, negative map values). */
export const OFFSET_JSON_FORMS: readonly Record<string, unknown>[] = [
  {
    type: 'string',
    pattern: '^\\s*(-\\s*)?\\d+(\\.\\d+)?\\s*(ms|s|m|h)\\s*$',
    description: 'A number and a unit (ms, s, m, h), with - for before.',
  },
  {
    type: 'string',
    pattern: '^\\s*(-\\s*)?\\d+:[0-5]\\d(:[0-5]\\d(\\.\\d+)?)?\\s*$',
    description: 'HH:MM or HH:MM:SS, with - for before.',
  },
  { type: 'number', minimum: -MAX_DURATION_MS, maximum: MAX_DURATION_MS, description: 'Milliseconds.' },
  {
    type: 'object',
    description: `A map of ${MAP_FORM_TEXT}; negative for before.`,
    minProperties: 1,
    additionalProperties: false,
    properties: mapUnitsJson(undefined),
  },
]

/** Examples of every duration form, for the editor schemas. */
export const DURATION_EXAMPLES: readonly unknown[] = ['5s', '500ms', '2m', '1.5h', '00:00:05', { minutes: 2 }, 1000]

/** What a duration may look like, for messages. */
export const DURATION_FORMS = '500ms, 1s, 10m, 2h, "00:00:05" or { minutes: 2 }'

/**
 * Parses a duration as written in automation and device files: `500ms`, `1s`, `1.5s`, `10m`, `2h`; `"HH:MM:SS"` (or
 * `"HH:MM"`, hours and minutes, and `"HH:MM:SS.mmm"`) and `{ days, hours, minutes, seconds, milliseconds }` as Home
 * Assistant users write them; or a bare number of milliseconds. At most MAX_DURATION_MS. Returns undefined for
 * anything else.
 *
 * @example
 * parseDuration('10m') // 600000
 * parseDuration('00:00:05') // 5000
 * parseDuration({ minutes: 2 }) // 120000
 */
export function parseDuration(value: unknown): number | undefined {
  const ms = magnitude(value)
  return ms !== undefined && Number.isFinite(ms) && ms >= 0 && ms <= MAX_DURATION_MS ? Math.round(ms) : undefined
}

/**
 * A duration that may be negative, written with a leading `-` (`-30m`, `"-00:30:00"`), as a negative number of
 * ms, or with negative values in a map (`{ minutes: -30 }`): a sun trigger's `offset`.
 *
 * @example
 * parseOffset('-30m') // -1800000
 */
export function parseOffset(value: unknown): number | undefined {
  if (typeof value === 'string' && value.trim().startsWith('-')) {
    const ms = parseDuration(value.trim().slice(1))
    return ms === undefined ? undefined : -ms
  }
  if (typeof value === 'number' && value < 0) {
    const ms = parseDuration(-value)
    return ms === undefined ? undefined : -ms
  }
  if (isMap(value)) {
    const ms = mapMagnitude(value, true)
    return ms !== undefined && Math.abs(ms) <= MAX_DURATION_MS ? Math.round(ms) : undefined
  }
  return parseDuration(value)
}

function magnitude(value: unknown): number | undefined {
  if (typeof value === 'number') return value
  if (isMap(value)) return mapMagnitude(value, false)
  if (typeof value !== 'string') return undefined
  const unit = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(value)
  if (unit) return Number(unit[1]) * UNITS[unit[2]!]!
  // Home Assistant's time period: HH:MM or HH:MM:SS, seconds with an optional fraction.
  const clock = /^\s*(\d+):([0-5]\d)(?::([0-5]\d(?:\.\d+)?))?\s*$/.exec(value)
  if (clock) return (Number(clock[1]) * 3600 + Number(clock[2]) * 60 + Number(clock[3] ?? 0)) * 1000
  return undefined
}

function mapMagnitude(value: Record<string, unknown>, signed: boolean): number | undefined {
  const entries = Object.entries(value)
  if (entries.length === 0) return undefined
  let ms = 0
  for (const [key, amount] of entries) {
    const unit = MAP_UNITS[key]
    if (unit === undefined || typeof amount !== 'number' || !Number.isFinite(amount)) return undefined
    if (!signed && amount < 0) return undefined
    ms += amount * unit
  }
  return ms
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/**
 * `ms` as an automation file would write it: the largest unit it is a whole number of (`30m`, `90s`, `1500ms`).
 *
 * @example
 * durationText(-1_800_000) // '-30m'
 */
export function durationText(ms: number): string {
  const sign = ms < 0 ? '-' : ''
  const size = Math.abs(ms)
  for (const [unit, factor] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (size >= factor && size % factor === 0) return `${sign}${size / factor}${unit}`
  }
  return `${sign}${size}ms`
}

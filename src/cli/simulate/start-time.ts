import { localTime } from '../../automation/local-time.js'

/**
 * The epoch ms of `--start`: `2026-12-24T06:55` (or with seconds, or a space for the T) is a wall-clock time in
 * `timeZone`; `06:55` is that time today; a time with `Z` or an offset is taken as it is. Undefined when `text`
 * is none of these, or no such date exists.
 *
 * @example
 * parseStartTime('2026-12-24T06:55', 'Europe/Berlin', Date.now()) // Date.parse('2026-12-24T06:55:00+01:00')
 */
export function parseStartTime(text: string, timeZone: string, now: number): number | undefined {
  const trimmed = text.trim()
  if (/\d(Z|[+-]\d\d:?\d\d)$/i.test(trimmed)) {
    const time = Date.parse(trimmed)
    return Number.isNaN(time) ? undefined : time
  }
  let fields: number[]
  const dated = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d))?)?$/.exec(trimmed)
  const timeOnly = /^(\d\d?):(\d\d)(?::(\d\d))?$/.exec(trimmed)
  if (dated) fields = dated.slice(1).map((part) => Number(part ?? 0))
  else if (timeOnly) {
    const today = localTime(now, timeZone)
    fields = [today.year, today.month, today.day, ...timeOnly.slice(1).map((part) => Number(part ?? 0))]
  } else return undefined
  const [year, month, day, hour, minute, second] = fields as [number, number, number, number, number, number]
  const wall = Date.UTC(year, month - 1, day, hour, minute, second)
  const check = new Date(wall)
  if (check.getUTCDate() !== day || check.getUTCHours() !== hour || check.getUTCMinutes() !== minute) return undefined
  // The zone's offset at that moment, found from a first guess and corrected once (it may change in between).
  let epoch = wall
  for (let i = 0; i < 2; i++) {
    const shown = localTime(epoch, timeZone)
    epoch = wall - (Date.UTC(shown.year, shown.month - 1, shown.day, shown.hour, shown.minute, shown.second) - epoch)
  }
  return epoch
}

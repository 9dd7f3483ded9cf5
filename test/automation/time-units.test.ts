import { afterEach, describe, expect, it, vi } from 'vitest'
import { inTimeWindow } from '../../src/automation/condition.js'
import { durationText, parseDuration, parseOffset } from '../../src/automation/duration.js'
import { localTime, parseTimeOfDay } from '../../src/automation/local-time.js'
import { harness, type Harness } from './support.js'

describe('durations', () => {
  it('reads what genlock and Home Assistant users write', () => {
    expect(parseDuration('500ms')).toBe(500)
    expect(parseDuration('1.5s')).toBe(1500)
    expect(parseDuration('2m')).toBe(120_000)
    expect(parseDuration('00:00:05')).toBe(5000)
    expect(parseDuration('01:30')).toBe(5_400_000) // HH:MM, as Home Assistant reads it
    expect(parseDuration('00:00:01.250')).toBe(1250)
    expect(parseDuration({ minutes: 2 })).toBe(120_000)
    expect(parseDuration({ hours: 1, minutes: 30, seconds: 5 })).toBe(5_405_000)
    expect(parseDuration(250)).toBe(250)
  })

  it('rejects the rest', () => {
    for (const bad of ['5 minutes', '00:61:00', { minute: 2 }, { minutes: -2 }, {}, '-5s', 'later', null, [1]]) {
      expect(parseDuration(bad)).toBeUndefined()
    }
    expect(parseDuration({ days: 30 })).toBeUndefined() // over the longest timer
  })

  it('offsets may be negative', () => {
    expect(parseOffset('-30m')).toBe(-1_800_000)
    expect(parseOffset('-00:45:00')).toBe(-2_700_000)
    expect(parseOffset({ minutes: -45 })).toBe(-2_700_000)
    expect(parseOffset('15m')).toBe(900_000)
    expect(parseOffset('-later')).toBeUndefined()
    expect(durationText(-1_800_000)).toBe('-30m')
    expect(durationText(90_000)).toBe('90s')
  })
})

describe('local time', () => {
  it('reads a moment on the wall clock of a zone, with its offset', () => {
    const winter = localTime(Date.parse('2026-12-24T05:55:00Z'), 'Europe/Berlin')
    expect(winter).toMatchObject({ year: 2026, month: 12, day: 24, hour: 6, minute: 55, weekday: 'thu' })
    expect(winter).toMatchObject({ isoweekday: 4, date: '2026-12-24', time: '06:55:00' })
    expect(winter.iso).toBe('2026-12-24T06:55:00+01:00')
    expect(localTime(Date.parse('2026-07-01T00:30:00Z'), 'America/New_York').iso).toBe('2026-06-30T20:30:00-04:00')
    expect(parseTimeOfDay('7:05')).toBe(7 * 3600 + 5 * 60)
    expect(parseTimeOfDay('24:00')).toBeUndefined()
  })

  it('time windows: across midnight, and on the weekday it is now', () => {
    const at = (iso: string) => localTime(Date.parse(iso), 'UTC')
    const night = { after: 22 * 3600, before: 6 * 3600 }
    expect(inTimeWindow(night, at('2026-06-06T23:30:00Z'))).toBe(true)
    expect(inTimeWindow(night, at('2026-06-06T05:59:59Z'))).toBe(true)
    expect(inTimeWindow(night, at('2026-06-06T06:00:00Z'))).toBe(false)
    expect(inTimeWindow(night, at('2026-06-06T21:59:00Z'))).toBe(false)
    const weekend = { weekday: ['sat', 'sun'] as const, after: 8 * 3600 }
    expect(inTimeWindow(weekend, at('2026-06-06T09:00:00Z'))).toBe(true) // Saturday
    expect(inTimeWindow(weekend, at('2026-06-06T07:00:00Z'))).toBe(false)
    expect(inTimeWindow(weekend, at('2026-06-05T09:00:00Z'))).toBe(false) // Friday
  })
})

describe('now and time windows in automations', () => {
  let h: Harness | undefined
  afterEach(async () => {
    await h?.close()
    h = undefined
    vi.useRealTimers()
  })

  it('`now` is the local time when the expression runs; a time window chooses the branch', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date', 'performance'],
      now: Date.parse('2026-12-24T21:59:00Z'), // 22:59 in Berlin
    })
    h = await harness(
      {
        'night.yaml': `name: night
devices: bath_bulb
trigger: { mqtt: home/go }
steps:
  - log: "{{ now.weekday }} {{ now.date }} {{ now.hour }}:{{ now.minute }}"
  - wait: 2m
  - log: "{{ now.time }}"
  - if: { after: "23:00", before: "06:00" }
    then: [{ log: late }]
    else: [{ log: early }]
  - if: [{ weekday: thu }, "now.hour == 23"]
    then: [{ log: thursday at eleven }]
`,
      },
      { time: { timezone: 'Europe/Berlin' } },
    )
    h.bus.send('home/go', 'ON')
    await vi.advanceTimersByTimeAsync(3 * 60_000)
    const logs = h.lines.flatMap((line) => (line.step === undefined ? [] : [line.msg]))
    expect(logs).toEqual(['thu 2026-12-24 22:59', '23:01:00', 'late', 'thursday at eleven'])
  })
})

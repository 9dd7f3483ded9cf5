import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ScheduleRecord, ScheduleStore } from '../../src/automation/schedule-memory.js'
import { harness, type Harness, type HarnessOptions } from './support.js'

/**
 * at, cron and sun triggers on a fake clock in a fixed zone (Europe/Berlin), whatever zone the machine is in.
 * Each run logs the local time it started at, so the assertions read as a wall clock would.
 */
const BERLIN = 'Europe/Berlin'
const FAKE = ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date', 'performance'] as const

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
  vi.useRealTimers()
})

function startAt(iso: string): void {
  vi.useFakeTimers({ toFake: [...FAKE], now: Date.parse(iso) })
}

/** One automation that logs `now.iso` each run, with `trigger` as given (YAML lines under `trigger:`). */
function logging(trigger: string, extra = ''): Record<string, string> {
  return {
    'timed.yaml': `name: timed\ndevices: bath_bulb\nmode: parallel\n${extra}trigger:\n${trigger}\nsteps:\n  - log: "ran {{ now.iso }} {{ trigger.kind }} {{ trigger.scheduled }} catch_up={{ trigger.catch_up }}"\n`,
  }
}

async function timed(trigger: string, options: HarnessOptions = {}, extra = ''): Promise<Harness> {
  return harness(logging(trigger, extra), { ...options, time: { timezone: BERLIN, ...options.time } })
}

/** The local times runs started at, from their log lines. */
function runs(): string[] {
  return h!.lines.flatMap((line) => {
    const match = /^ran (\S+)/.exec(String(line.msg))
    return match ? [match[1]!] : []
  })
}

async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms)
}

const HOUR = 3_600_000
const DAY = 24 * HOUR

describe('at and cron triggers', () => {
  it('at: fires at the local times of a list, every day, and tells the run when it was due', async () => {
    startAt('2026-06-01T04:00:00Z') // 06:00 in Berlin (CEST)
    h = await timed('  - at: ["07:00", "19:30"]')
    await advance(DAY + 2 * HOUR)
    expect(runs()).toEqual(['2026-06-01T07:00:00+02:00', '2026-06-01T19:30:00+02:00', '2026-06-02T07:00:00+02:00'])
    const first = h.lines.find((line) => String(line.msg).startsWith('ran '))!
    expect(first.msg).toBe('ran 2026-06-01T07:00:00+02:00 at 2026-06-01T07:00:00+02:00 catch_up=false')
  })

  it('cron: 6 fields (seconds first) and 5 fields, with weekdays', async () => {
    startAt('2026-06-05T08:50:00Z') // Friday 10:50 in Berlin
    h = await timed('  - cron: "0 */15 * * * *"\n  - cron: "30 11 * * mon-fri"')
    await advance(40 * 60_000)
    expect(runs()).toEqual([
      '2026-06-05T11:00:00+02:00',
      '2026-06-05T11:15:00+02:00',
      '2026-06-05T11:30:00+02:00',
      '2026-06-05T11:30:00+02:00',
    ])
  })

  it('a condition on a schedule trigger: a time window and weekdays', async () => {
    startAt('2026-06-05T20:00:00Z') // Friday 22:00 in Berlin
    h = await timed('  - cron: "0 * * * *"\n    condition: { weekday: [sat, sun], after: "06:00", before: "09:00" }')
    await advance(2 * DAY)
    expect(runs()).toEqual([
      '2026-06-06T06:00:00+02:00',
      '2026-06-06T07:00:00+02:00',
      '2026-06-06T08:00:00+02:00',
      '2026-06-07T06:00:00+02:00',
      '2026-06-07T07:00:00+02:00',
      '2026-06-07T08:00:00+02:00',
    ])
  })
})

describe('without a timezone in config.yaml', () => {
  it("at and now are in the machine's own zone (TZ)", async () => {
    const before = process.env.TZ
    process.env.TZ = 'America/New_York' // node re-reads the zone when TZ is set
    try {
      startAt('2026-06-01T10:00:00Z') // 06:00 EDT
      h = await harness(logging('  - at: "07:00"'))
      await advance(HOUR + 1000)
      expect(runs()).toEqual(['2026-06-01T07:00:00-04:00'])
    } finally {
      if (before === undefined) delete process.env.TZ
      else process.env.TZ = before
    }
  })
})

describe('daylight saving time in Europe/Berlin', () => {
  it('spring: a time in the skipped hour fires once, right after the jump; the next day at its time', async () => {
    startAt('2026-03-28T12:00:00Z')
    h = await timed('  - at: "02:30"')
    await advance(2 * DAY)
    // 02:00 CET jumps to 03:00 CEST on 29 March: 02:30 does not exist that night.
    expect(runs()).toEqual(['2026-03-29T03:00:00+02:00', '2026-03-30T02:30:00+02:00'])
  })

  it('autumn: a time in the repeated hour fires once; an hourly cron fires in both hours', async () => {
    startAt('2026-10-24T12:00:00Z')
    h = await timed('  - at: "02:30"')
    await advance(2 * DAY)
    // 03:00 CEST falls back to 02:00 CET on 25 October: 02:30 happens twice, and runs the first time only.
    expect(runs()).toEqual(['2026-10-25T02:30:00+02:00', '2026-10-26T02:30:00+01:00'])
    await h.close()

    startAt('2026-10-25T00:00:00Z') // 02:00 CEST
    h = await timed('  - cron: "15 * * * *"')
    await advance(3 * HOUR)
    expect(runs()).toEqual(['2026-10-25T02:15:00+02:00', '2026-10-25T02:15:00+01:00', '2026-10-25T03:15:00+01:00'])
  })
})

describe('sun triggers', () => {
  it('sunset with an offset, at the configured location', async () => {
    startAt('2026-06-21T10:00:00Z')
    h = await timed('  - sun: sunset\n    offset: -30m', { time: { location: { latitude: 52.52, longitude: 13.405 } } })
    await advance(DAY)
    // Berlin's sunset on the longest day is at about 21:33 CEST.
    const [first, ...rest] = runs()
    expect(rest).toEqual([])
    expect(Math.abs(Date.parse(first!) - Date.parse('2026-06-21T21:03:00+02:00'))).toBeLessThan(3 * 60_000)
  })

  it('without a location: not armed, and the log says what to set', async () => {
    startAt('2026-06-21T10:00:00Z')
    h = await timed('  - sun: sunrise')
    await advance(DAY)
    expect(runs()).toEqual([])
    expect(h.lines.some((line) => /needs the location: set location/.test(String(line.msg)))).toBe(true)
  })
})

describe('catch_up after a restart', () => {
  /** A store in memory, as the data dir's state file would keep it across restarts. */
  function memoryStore(): ScheduleStore & { record: ScheduleRecord | undefined } {
    return {
      record: undefined,
      read() {
        return Promise.resolve(this.record)
      },
      write(record) {
        this.record = structuredClone(record)
        return Promise.resolve()
      },
    }
  }

  /** Runs a day with the daemon up, down from 06:58 to `back` on the next day, then up again. */
  async function downOverSeven(trigger: string, back: string, store = memoryStore()) {
    startAt('2026-06-01T04:00:00Z') // 06:00 CEST
    h = await timed(trigger, { time: { scheduleStore: store } })
    await advance(DAY - 2 * 60_000) // up to 06:58 the next day: one run at 07:00 on the first
    expect(runs()).toEqual(['2026-06-01T07:00:00+02:00'])
    await h.close()
    vi.setSystemTime(Date.parse(back))
    h = await timed(trigger, { time: { scheduleStore: store } })
    await advance(1000)
    return { store }
  }

  it('runs the one occurrence missed while down, when back within catch_up', async () => {
    const { store } = await downOverSeven('  - at: "07:00"\n    catch_up: 10m', '2026-06-02T07:05:00+02:00')
    expect(runs()).toEqual(['2026-06-02T07:05:00+02:00'])
    expect(h!.lines.map((line) => line.msg)).toContain(
      'ran 2026-06-02T07:05:00+02:00 at 2026-06-02T07:00:00+02:00 catch_up=true',
    )
    // Once: a second restart within the window finds the occurrence dealt with.
    await h!.close()
    h = await timed('  - at: "07:00"\n    catch_up: 10m', { time: { scheduleStore: store } })
    await advance(1000)
    expect(runs()).toEqual([])
    expect(Object.keys(store.record!.handled)).toEqual(['timed|at 07:00'])
  })

  it('does not run it when back later than catch_up allows', async () => {
    await downOverSeven('  - at: "07:00"\n    catch_up: 10m', '2026-06-02T07:11:00+02:00')
    expect(runs()).toEqual([])
  })

  it('does not run a missed occurrence without catch_up', async () => {
    await downOverSeven('  - at: "07:00"', '2026-06-02T07:01:00+02:00')
    expect(runs()).toEqual([])
  })

  it('does not run anything the first time a schedule is seen', async () => {
    startAt('2026-06-02T05:05:00Z') // 07:05 CEST, never started before
    h = await timed('  - at: "07:00"\n    catch_up: 10m', { time: { scheduleStore: memoryStore() } })
    await advance(1000)
    expect(runs()).toEqual([])
  })

  it('a wall clock that jumps past an occurrence (NTP at boot) does not run it late', async () => {
    startAt('2026-06-01T04:50:00Z') // 06:50 CEST
    h = await timed('  - at: "07:00"')
    vi.setSystemTime(Date.parse('2026-06-01T12:00:00+02:00'))
    await advance(2 * 60_000)
    expect(runs()).toEqual([])
    expect(h.lines.some((line) => /missed the occurrence at 2026-06-01T07:00:00\+02:00/.test(String(line.msg)))).toBe(
      true,
    )
    await advance(DAY)
    expect(runs()).toEqual(['2026-06-02T07:00:00+02:00'])
  })
})

describe('schedules and hot reload', () => {
  it('an unchanged automation keeps its schedule; a changed one is re-armed, never both', async () => {
    startAt('2026-06-01T04:58:00Z') // 06:58 CEST
    h = await timed('  - at: "07:00"')
    const { parseAutomationFile } = await import('../../src/automation/parse.js')
    const known = new Set(['bath_bulb'])
    const reload = (at: string) =>
      h!.engine.load([parseAutomationFile('timed.yaml', known, logging(`  - at: "${at}"`)['timed.yaml']!)])
    reload('07:00')
    await advance(60_000)
    reload('07:00')
    await advance(2 * 60_000)
    expect(runs()).toEqual(['2026-06-01T07:00:00+02:00'])
    reload('07:05')
    await advance(10 * 60_000)
    expect(runs()).toEqual(['2026-06-01T07:00:00+02:00', '2026-06-01T07:05:00+02:00'])
  })
})

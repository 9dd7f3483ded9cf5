import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { VirtualClock } from '../../src/automation/virtual-clock.js'
import { memoryProtocol } from '../../src/lock/index.js'
import type { RunEvent } from '../../src/automation/run-events.js'
import { harness, harnessOver, type Harness } from './support.js'

const START = Date.parse('2026-12-24T06:55:00Z')

describe('VirtualClock', () => {
  it('stands still at speed 0 and runs what falls due on advance, in due order, each at its due time', async () => {
    const clock = new VirtualClock({ start: START, speed: 0 })
    const seen: [string, number][] = []
    clock.after(2000, () => seen.push(['b', clock.now() - START]))
    clock.at(START + 1000, () => seen.push(['a', clock.now() - START]))
    clock.after(2000, () => seen.push(['c', clock.now() - START]))
    const cancelled = clock.after(1500, () => seen.push(['never', 0]))
    cancelled()
    cancelled() // twice is fine
    clock.after(60_000, () => seen.push(['later', 0]))
    expect(clock.now()).toBe(START)
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(clock.now()).toBe(START)

    await clock.advance(10_000)
    // Equal due times keep their registration order.
    expect(seen).toEqual([
      ['a', 1000],
      ['b', 2000],
      ['c', 2000],
    ])
    expect(clock.now()).toBe(START + 10_000)
    expect(clock.pending).toBe(1)
    expect(clock.nextDue).toBe(START + 60_000)
  })

  it('runs a callback registered by another on the same advance, and awaits settle between two', async () => {
    const clock = new VirtualClock({ start: START, speed: 0 })
    const seen: string[] = []
    const tick = (n: number) => {
      seen.push(`tick ${n} at ${clock.now() - START}`)
      if (n < 3) clock.after(500, () => tick(n + 1))
    }
    clock.after(500, () => tick(1))
    clock.after(1200, () => seen.push('other at 1200'))
    await clock.advance(1600, async () => {
      seen.push('settled')
    })
    expect(seen).toEqual([
      'settled',
      'tick 1 at 500',
      'settled',
      'tick 2 at 1000',
      'settled',
      'other at 1200',
      'settled',
      'tick 3 at 1500',
      'settled',
    ])
  })

  it('advance(0) runs only what is due now; a time in the past is due at once', async () => {
    const clock = new VirtualClock({ start: START, speed: 0 })
    const seen: number[] = []
    clock.at(START - 5000, () => seen.push(clock.now() - START))
    clock.after(0, () => seen.push(clock.now() - START))
    clock.after(1, () => seen.push(-1))
    await clock.advance(0)
    expect(seen).toEqual([0, 0])
    await expect(clock.advance(-1)).rejects.toThrow(RangeError)
  })

  it('at a speed, follows real time that many times faster, and fires on its own', async () => {
    const clock = new VirtualClock({ start: START, speed: 1000 })
    const fired = new Promise<number>((resolve) => clock.after(30_000, () => resolve(clock.now())))
    const at = await fired
    // 30 virtual seconds at 1000×: about 30 real ms. Never before its due time.
    expect(at).toBeGreaterThanOrEqual(START + 30_000)
    clock.dispose()
  })

  it('at a speed, advance jumps ahead and real time goes on counting from there', async () => {
    const clock = new VirtualClock({ start: START, speed: 1 })
    const seen: number[] = []
    clock.after(600_000, () => seen.push(clock.now() - START))
    await clock.advance(600_000)
    expect(seen).toEqual([600_000])
    expect(clock.now()).toBeGreaterThanOrEqual(START + 600_000)
    clock.dispose()
  })

  it('starts stopped and runs once given a speed, from the time it read then', async () => {
    const clock = new VirtualClock({ start: START, speed: 0 })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(clock.now()).toBe(START)
    const fired = new Promise<number>((resolve) => clock.after(10_000, () => resolve(clock.now())))
    clock.setSpeed(1000)
    expect(clock.speed).toBe(1000)
    expect(await fired).toBeGreaterThanOrEqual(START + 10_000)
    clock.setSpeed(0)
    const stopped = clock.now()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(clock.now()).toBe(stopped)
    expect(() => clock.setSpeed(-2)).toThrow(RangeError)
  })

  it('refuses a negative speed or no start', () => {
    expect(() => new VirtualClock({ start: START, speed: -1 })).toThrow(RangeError)
    expect(() => new VirtualClock({ start: Number.NaN })).toThrow(RangeError)
  })
})

const shipped = (file: string) => readFileSync(new URL(`../../automations/${file}`, import.meta.url), 'utf8')

describe('the engine on a VirtualClock', () => {
  let h: Harness | undefined
  afterEach(async () => {
    await h?.close()
    h = undefined
  })

  it('the shipped wake-up ramp starts at 06:40, the alarm preempts it, and it resumes mid-ramp', async () => {
    // 2026-12-21 is a Monday; Europe/Berlin is UTC+1 in December.
    const clock = new VirtualClock({ start: Date.parse('2026-12-21T06:35:00+01:00'), speed: 0 })
    h = await harness(
      { 'wake_up.yaml': shipped('wake_up.yaml'), 'alarm.yaml': shipped('alarm.yaml') },
      { initialState: { on: false, brightness: 0, reachable: true }, time: { timezone: 'Europe/Berlin', clock } },
    )
    // The harness's bulbs stamp their log with the wall clock: what the ramp sent, and who sent it, is the check.
    const log = () => h!.bulb().commandLog.map((entry) => [entry.origin?.holder, entry.command.brightness])
    const bright = () => h!.bulb().state.brightness

    await clock.advance(5 * 60_000 + 3 * 60_000 + 30_000) // 06:43:30
    expect(bright()).toBe(15)
    h.bus.send('home/alarm', 'ON')
    await clock.advance(1200)
    expect(h.engine.status().find((status) => status.name === 'wake_up')?.state).toBe('suspended')
    h.bus.send('home/alarm', 'OFF')
    await clock.advance(0)
    // Not back to 1 %: its own look (15 %), then the ramp's next step.
    expect(bright()).toBe(20)
    await clock.advance(20 * 60_000)
    expect(bright()).toBe(100)
    expect(h.engine.status().find((status) => status.name === 'wake_up')?.state).toBe('idle')
    expect(log().slice(0, 9)).toEqual([
      ['wake_up', 1],
      ['wake_up', 5],
      ['wake_up', 10],
      ['wake_up', 15],
      ['alarm', 50],
      ['alarm', 100],
      ['alarm', 50],
      ['wake_up', 15],
      ['wake_up', 20],
    ])
  })

  it("a lock's ttl and acquire_timeout count on the clock the daemon gives the memory locks", async () => {
    const clock = new VirtualClock({ start: START, speed: 0 })
    const long = `name: long
priority: 10
devices: bath_bulb
lock: { ttl: 1m }
trigger: { mqtt: home/long }
steps:
  - set: { on: true }
  - wait: 10m
`
    const waiter = `name: waiter
priority: 5
devices: bath_bulb
lock: { acquire_timeout: 5s }
trigger: { mqtt: home/waiter }
steps:
  - set: { on: false }
`
    const protocol = memoryProtocol(clock)
    h = {
      ...(await harnessOver(protocol, { 'long.yaml': long, 'waiter.yaml': waiter }, { time: { clock } })),
      protocol,
    }
    const events: RunEvent[] = []
    h.engine.on('run', (event) => events.push(event))
    h.bus.send('home/long', 'ON')
    await clock.advance(0)
    h.bus.send('home/waiter', 'ON')
    await clock.advance(4_000)
    expect(events.filter((event) => event.type === 'ended')).toEqual([])
    await clock.advance(1_000) // 5 s: the waiter gives up
    expect(events.find((event) => event.automation === 'waiter' && event.type === 'ended')).toMatchObject({
      outcome: 'failed',
    })
    expect(events.some((event) => event.type === 'lock-lost')).toBe(false)
    // 1 min on the clock, well under a second of real time: the ttl runs out.
    await clock.advance(55_000)
    expect(events.find((event) => event.type === 'lock-lost')).toMatchObject({ automation: 'long', code: 'EXPIRED' })
  })
})

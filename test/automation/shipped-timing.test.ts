import { readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { harness, type Harness } from './support.js'

/** The shipped party and alarm, unmodified, on a fake clock: their waits are checked at full length. */
const shipped = (file: string) => readFileSync(new URL(`../../automations/${file}`, import.meta.url), 'utf8')

let h: Harness | undefined
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date', 'performance'] })
})
afterEach(async () => {
  await h?.close()
  h = undefined
  vi.useRealTimers()
})

describe('party.yaml and alarm.yaml as shipped, on a fake clock', () => {
  it('party steps every 1 s; the alarm at 500 ms; the party resumes after it with the next colour', async () => {
    h = await harness({ 'party.yaml': shipped('party.yaml'), 'alarm.yaml': shipped('alarm.yaml') })
    const start = Date.now()
    const at = () => h!.bulb().commandLog.map((entry) => [entry.at - start, entry.origin?.holder, entry.command])

    h.bus.send('home/party', 'ON')
    await vi.advanceTimersByTimeAsync(2500)
    h.bus.send('home/alarm', 'ON')
    await vi.advanceTimersByTimeAsync(1200)
    h.bus.send('home/alarm', 'OFF')
    await vi.advanceTimersByTimeAsync(1000)

    expect(at()).toEqual([
      [0, 'party', { color: 'red', brightness: 80 }],
      [1000, 'party', { color: 'blue' }],
      [2000, 'party', { color: 'yellow' }],
      [2500, 'alarm', { color: 'red', brightness: 50 }],
      [3000, 'alarm', { brightness: 100 }],
      [3500, 'alarm', { color: 'red', brightness: 50 }],
      // The party was in its last wait when the alarm came: it puts its own look back (yellow at 80 %, not the
      // alarm's red), then goes on with the next step, red.
      [3700, 'party', { on: true, brightness: 80, color: { r: 255, g: 255, b: 0 } }],
      [3700, 'party', { color: 'red', brightness: 80 }],
      [4700, 'party', { color: 'blue' }],
    ])
  })
})

describe('wake_up.yaml and alarm.yaml as shipped, on a fake clock in Europe/Berlin', () => {
  it('the ramp starts at 06:40; the alarm preempts it; after the alarm it resumes mid-ramp', async () => {
    vi.setSystemTime(Date.parse('2026-06-01T06:35:00+02:00')) // a Monday
    h = await harness(
      { 'wake_up.yaml': shipped('wake_up.yaml'), 'alarm.yaml': shipped('alarm.yaml') },
      { initialState: { on: false, brightness: 0, reachable: true }, time: { timezone: 'Europe/Berlin' } },
    )
    const start = Date.parse('2026-06-01T06:40:00+02:00')
    const at = () =>
      h!.bulb().commandLog.map((entry) => [(entry.at - start) / 1000, entry.origin?.holder, entry.command])

    await vi.advanceTimersByTimeAsync(5 * 60_000 + 3 * 60_000 + 30_000) // 06:43:30
    h.bus.send('home/alarm', 'ON')
    await vi.advanceTimersByTimeAsync(1200)
    h.bus.send('home/alarm', 'OFF')
    await vi.advanceTimersByTimeAsync(2 * 60_000)

    const ramp = (index: number) => ({ brightness: index * 5, colorTemp: 2200 + index * 80, transition: 60_000 })
    expect(at()).toEqual([
      [0, 'wake_up', { on: true, brightness: 1, colorTemp: 2200 }],
      [60, 'wake_up', ramp(1)],
      [120, 'wake_up', ramp(2)],
      [180, 'wake_up', ramp(3)],
      // 06:43:30, in the ramp's fourth minute: the alarm takes the bulb.
      [210, 'alarm', { color: 'red', brightness: 50 }],
      [210.5, 'alarm', { brightness: 100 }],
      [211, 'alarm', { color: 'red', brightness: 50 }],
      // The alarm stops at 06:43:31.2; the ramp puts its look back (where its last step was heading), then goes
      // on with its next step (its cut-short wait is over).
      [211.2, 'wake_up', { on: true, brightness: 15, colorTemp: 2440 }],
      [211.2, 'wake_up', ramp(4)],
      [271.2, 'wake_up', ramp(5)],
      [331.2, 'wake_up', ramp(6)],
    ])
    expect(h.engine.status().find((status) => status.name === 'wake_up')?.state).toBe('running')
  })
})

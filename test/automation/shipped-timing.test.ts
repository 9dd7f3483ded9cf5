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
      // The party was in its last wait when the alarm came: it goes on with the next step, red.
      [3700, 'party', { color: 'red', brightness: 80 }],
      [4700, 'party', { color: 'blue' }],
    ])
  })
})

import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { systemClock, type Clock } from '../../src/automation/clock.js'
import { harness, locksIdle, type Harness } from './support.js'

/** A shipped example automation, its waits cut to a few ms. */
function example(file: string): string {
  return readFileSync(new URL(`../../automations/${file}`, import.meta.url), 'utf8').replace(
    /wait: \d+(ms|s|m)/g,
    'wait: 5ms',
  )
}

const devices = ['bath_bulb', 'hall_bulb', 'kitchen_strip']

/** The real clock moved to show `iso` now (as `simulate --start` would): timers keep their real lengths. */
function clockShowing(iso: string): Clock {
  const offset = Date.parse(iso) - Date.now()
  return {
    now: () => Date.now() + offset,
    after: systemClock.after,
    at: (time, callback) => systemClock.at(time - offset, callback),
  }
}
let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

describe('shipped examples', () => {
  it('doorbell flashes both lights three times in parallel, notifies, then restores them', async () => {
    h = await harness({ 'doorbell.yaml': example('doorbell.yaml') }, { devices })
    const restored = Promise.all([h.logged('restored hall_bulb'), h.logged('restored kitchen_strip')])
    h.bus.send('zigbee2mqtt/doorbell', '{"action":"double"}')
    h.bus.send('zigbee2mqtt/doorbell', '{"action":"single"}')
    await h.status('doorbell', 'running')
    await restored
    await locksIdle(h.protocol)
    const hall = h.bulb('hall_bulb').commandLog.map((entry) => entry.command)
    const flash = [{ on: true, brightness: 100, colorTemp: 6500 }, { brightness: 10 }]
    expect(hall).toEqual([...flash, ...flash, ...flash, { on: true, brightness: 40, colorTemp: 2700 }])
    expect(h.bulb('kitchen_strip').commandLog).toHaveLength(7)
    expect(h.bus.published.map((message) => message.topic)).toEqual(['home/notify'])
    expect(h.lines.some((line) => line.msg === 'doorbell: single press')).toBe(true)
  })

  it('kitchen_scene applies queued scene changes in order and publishes each', async () => {
    h = await harness({ 'kitchen-scene.yaml': example('kitchen-scene.yaml') }, { devices })
    h.bus.send('home/kitchen/scene', '{"scene":"dinner"}')
    h.bus.send('home/kitchen/scene', '{"color":"teal"}')
    h.bus.send('home/kitchen/scene', '{"scene":"cooking"}')
    h.bus.send('home/kitchen/scene', 'nonsense')
    await h.status('kitchen_scene', 'idle')
    expect(h.bulb('kitchen_strip').commandLog.map((entry) => entry.command)).toEqual([
      { on: true, brightness: 40, color: '#ff9329', transition: 2000 },
      { on: true, color: 'teal' },
      { on: true, brightness: 100, colorTemp: 4000 },
      { on: false },
    ])
    expect(h.bus.published.map((message) => message.payload)).toEqual(['dinner', 'custom', 'cooking', 'custom'])
  })

  it('night_light lights the hall softly on motion at night and turns it off after the motion stops', async () => {
    const off = { on: false, brightness: 100, reachable: true }
    const time = { timezone: 'Europe/Berlin', clock: clockShowing('2026-06-01T14:00:00+02:00') }
    h = await harness({ 'night-light.yaml': example('night-light.yaml') }, { devices, initialState: off, time })
    const daytime = h.logged('trigger not matched: condition is false')
    h.bus.send('zigbee2mqtt/hall_motion', '{"occupancy":true}')
    await daytime
    await h.close()

    time.clock = clockShowing('2026-06-02T02:30:00+02:00')
    h = await harness({ 'night-light.yaml': example('night-light.yaml') }, { devices, initialState: off, time })
    const waiting = h.logged('waiting for a message on zigbee2mqtt/hall_motion')
    h.bus.send('zigbee2mqtt/hall_motion', '{"occupancy":true}')
    await waiting
    h.bus.send('zigbee2mqtt/hall_motion', '{"occupancy":false,"illuminance":2}')
    await h.status('night_light', 'idle')
    expect(h.bulb('hall_bulb').commandLog.map((entry) => entry.command)).toEqual([
      { on: true, brightness: 5, colorTemp: 2700, transition: 1000 },
      { on: false, transition: 3000 },
    ])
  })
})

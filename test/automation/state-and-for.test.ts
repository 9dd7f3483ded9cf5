import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { RunEvent } from '../../src/automation/run-events.js'
import { harness, type Harness } from './support.js'

/** State triggers and `for:` on a fake clock: whoever changes a bulb, and how long a message's condition holds. */
let h: Harness | undefined
beforeEach(() => {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date', 'performance'],
    now: Date.parse('2026-06-01T10:00:00Z'),
  })
})
afterEach(async () => {
  await h?.close()
  h = undefined
  vi.useRealTimers()
})

const DEVICES = { devices: ['hall_bulb', 'bath_bulb'], initialState: { on: false, brightness: 40, reachable: true } }

/** The messages of the automations' `log` steps, in order. */
function logged(): string[] {
  return h!.lines.flatMap((line) => (line.step === undefined ? [] : [String(line.msg)]))
}

describe('state triggers', () => {
  it('fire when the bulb changes, whoever changed it, and give the run the change', async () => {
    h = await harness(
      {
        'watch.yaml': `name: watch
devices: bath_bulb
mode: queued
trigger:
  - state: { device: hall_bulb, to: "on" }
  - state: { device: hall_bulb, from: "on", to: unavailable }
steps:
  - log: "{{ trigger.kind }} {{ trigger.device }} {{ trigger.from }}->{{ trigger.to }} at {{ trigger.state.brightness }}%"
`,
        'switch.yaml': `name: switch
devices: hall_bulb
trigger: { mqtt: home/hall }
steps:
  - set: { on: true, brightness: 70 }
`,
      },
      DEVICES,
    )
    const hall = h.bulb('hall_bulb')
    await hall.setState({ on: true, brightness: 30 }) // a person, through something other than genlock's automations
    await hall.setState({ brightness: 35 }) // not a change of on/off: no run
    await hall.setState({ on: false })
    h.bus.send('home/hall', 'ON') // another automation
    await vi.advanceTimersByTimeAsync(10)
    hall.setReachable(false)
    await vi.advanceTimersByTimeAsync(10)
    expect(logged()).toEqual([
      'state hall_bulb off->on at 30%',
      'state hall_bulb off->on at 70%',
      'state hall_bulb on->unavailable at 70%',
    ])
  })

  it('for: the new state must hold that long; a change back in between cancels it', async () => {
    h = await harness(
      {
        'held.yaml': `name: held
devices: bath_bulb
trigger:
  - state: { device: hall_bulb, to: "on", for: 2m }
steps:
  - log: "on for 2 minutes since {{ trigger.state.brightness }}%"
`,
      },
      DEVICES,
    )
    const hall = h.bulb('hall_bulb')
    await hall.setState({ on: true, brightness: 10 })
    await vi.advanceTimersByTimeAsync(90_000)
    await hall.setState({ on: false })
    await vi.advanceTimersByTimeAsync(5 * 60_000)
    expect(logged()).toEqual([])
    await hall.setState({ on: true, brightness: 20 })
    await vi.advanceTimersByTimeAsync(119_000)
    expect(logged()).toEqual([])
    await vi.advanceTimersByTimeAsync(1000)
    expect(logged()).toEqual(['on for 2 minutes since 20%'])
  })

  it('reports the change in the triggered run event', async () => {
    h = await harness(
      {
        'watch.yaml':
          'name: watch\ndevices: bath_bulb\ntrigger: { state: { device: hall_bulb } }\nsteps: [{ log: hi }]\n',
      },
      DEVICES,
    )
    const events: RunEvent[] = []
    h.engine.on('run', (event) => events.push(event))
    await h.bulb('hall_bulb').setState({ on: true })
    expect(events[0]).toMatchObject({
      type: 'triggered',
      automation: 'watch',
      at: Date.now(),
      via: { kind: 'state', device: 'hall_bulb', from: 'off', to: 'on' },
    })
  })
})

describe('for: on an MQTT trigger', () => {
  const motion = (occupancy: boolean) => JSON.stringify({ occupancy })

  it('fires once the condition has held that long; a message that does not match cancels the wait', async () => {
    h = await harness(
      {
        'still.yaml': `name: still
devices: bath_bulb
trigger:
  - mqtt: home/motion
    json: { occupancy: true }
    for: 30s
steps:
  - log: "occupied for 30 s: {{ trigger.payload }}"
`,
      },
      DEVICES,
    )
    h.bus.send('home/motion', motion(true))
    await vi.advanceTimersByTimeAsync(20_000)
    h.bus.send('home/motion', motion(false))
    await vi.advanceTimersByTimeAsync(60_000)
    expect(logged()).toEqual([])

    h.bus.send('home/motion', motion(true))
    await vi.advanceTimersByTimeAsync(10_000)
    h.bus.send('home/motion', JSON.stringify({ occupancy: true, seq: 2 })) // still holds: the wait goes on
    await vi.advanceTimersByTimeAsync(19_999)
    expect(logged()).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(logged()).toEqual(['occupied for 30 s: {"occupancy":true,"seq":2}'])

    // Held on: more matching messages start nothing new until the condition has stopped holding.
    h.bus.send('home/motion', motion(true))
    await vi.advanceTimersByTimeAsync(60_000)
    h.bus.send('home/motion', motion(false))
    h.bus.send('home/motion', motion(true))
    await vi.advanceTimersByTimeAsync(30_000)
    expect(logged()).toHaveLength(2)
  })

  it('works on a stop too: the light goes off after two minutes without motion', async () => {
    h = await harness(
      {
        'light.yaml': `name: light
devices: hall_bulb
trigger: { mqtt: home/motion, json: { occupancy: true } }
stop:
  - mqtt: home/motion
    json: { occupancy: false }
    for: "00:02:00"
restore: true
steps:
  - set: { on: true, brightness: 80 }
  - wait: 1h
`,
      },
      DEVICES,
    )
    h.bus.send('home/motion', motion(true))
    await vi.advanceTimersByTimeAsync(10)
    expect(h.bulb('hall_bulb').state.on).toBe(true)
    h.bus.send('home/motion', motion(false))
    await vi.advanceTimersByTimeAsync(119_000)
    expect(h.bulb('hall_bulb').state.on).toBe(true)
    await vi.advanceTimersByTimeAsync(1000)
    await h.status('light', 'idle')
    await vi.advanceTimersByTimeAsync(10)
    expect(h.bulb('hall_bulb').state.on).toBe(false)
  })
})

import { afterEach, describe, expect, it } from 'vitest'
import type { SimCommandLogEntry } from '../../src/devices/sim/sim-bulb.js'
import { harness, type Harness } from './support.js'

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

const commands = (harness: Harness, id?: string) => harness.bulb(id).commandLog.map((entry) => entry.command)

describe('steps', () => {
  it('set and publish evaluate templates from the trigger at step time; json triggers match fields', async () => {
    h = await harness({
      'mood.yaml': `
name: mood
devices: [bath_bulb]
mode: queued
trigger: { mqtt: home/mood, json: { kind: mood } }
steps:
  - set: { color: "{{ trigger.json.color }}", brightness: "{{ trigger.json.level * 2 }}" }
  - publish:
      topic: "home/mood/{{ trigger.json.color }}"
      payload: { level: "{{ trigger.json.level }}", by: "{{ automation }}", note: "at {{ trigger.json.level }}%" }
`,
    })
    h.bus.send('home/mood', '{"kind":"other","color":"red","level":10}')
    h.bus.send('home/mood', 'not json at all')
    h.bus.send('home/mood', JSON.stringify({ kind: 'mood', color: 'green', level: 30 }))
    await h.status('mood', 'idle')
    expect(commands(h)).toEqual([{ color: 'green', brightness: 60 }])
    expect(h.bus.published).toEqual([
      {
        topic: 'home/mood/green',
        payload: '{"level":30,"by":"mood","note":"at 30%"}',
        options: { retain: false, qos: 0 },
      },
    ])
    expect(h.lines.some((line) => line.msg === 'trigger: payload on home/mood is not JSON; dropped')).toBe(true)
  })

  it('repeat (count, until), if and choose pick the steps; conditions read repeat and device state', async () => {
    h = await harness({
      'logic.yaml': `
name: logic
devices: [bath_bulb]
trigger: { mqtt: home/logic }
steps:
  - repeat:
      count: "{{ trigger.json.times }}"
      steps:
        - if: "repeat.index % 2 == 1"
          then: [{ set: { brightness: "{{ repeat.index }}" } }]
          else: [{ set: { brightness: "{{ repeat.index * 10 }}" } }]
  - choose:
      - when: "trigger.json.times > 3"
        steps: [{ set: { color: red } }]
      - when: "trigger.json.times > 1"
        steps: [{ set: { color: green } }]
    default: [{ set: { color: blue } }]
  - repeat:
      until: "device.bath_bulb.brightness >= 90"
      steps: [{ set: { brightness: "{{ device.bath_bulb.brightness + 30 }}" } }]
  - repeat:
      while: "repeat.index <= 2"
      steps: [{ log: "round {{ repeat.index }} of {{ trigger.json.times }}" }]
`,
    })
    h.bus.send('home/logic', '{"times":3}')
    await h.status('logic', 'idle')
    expect(commands(h)).toEqual([
      { brightness: 1 },
      { brightness: 20 },
      { brightness: 3 },
      { color: 'green' },
      { brightness: 33 },
      { brightness: 63 },
      { brightness: 93 },
    ])
    const rounds = h.lines.filter((line) => String(line.msg).startsWith('round')).map((line) => line.msg)
    expect(rounds).toEqual(['round 1 of 3', 'round 2 of 3'])
    expect(h.engine.status()).toEqual([{ name: 'logic', state: 'idle' }])
  })

  it('parallel runs per-device branches at once under the one lock, and resumes them after a preemption', async () => {
    h = await harness(
      {
        'split.yaml': `
name: split
devices: [bath_bulb, hall_bulb]
trigger: { mqtt: home/split }
steps:
  - parallel:
      - device: bath_bulb
        steps:
          - set: { color: red }
          - wait_for: { mqtt: test/bath }
          - set: { color: blue }
      - device: hall_bulb
        steps:
          - set: { color: green }
          - wait_for: { mqtt: test/hall }
          - set: { color: white }
  - set: { on: false }
`,
        'alarm.yaml': `
name: alarm
priority: 100
devices: [bath_bulb, hall_bulb]
trigger: { mqtt: home/alarm, payload: "ON" }
stop: { mqtt: home/alarm, payload: "OFF" }
steps:
  - set: { brightness: 100 }
  - wait_for: { mqtt: test/never }
`,
      },
      { devices: ['bath_bulb', 'hall_bulb'] },
    )
    const order: string[] = []
    const record = (id: string) => (entry: SimCommandLogEntry) => {
      order.push(`${id}:${entry.origin?.holder}:${JSON.stringify(entry.command)}`)
      return false
    }
    void h.bulb('bath_bulb').nextCommand(record('bath'))
    void h.bulb('hall_bulb').nextCommand(record('hall'))

    let waiting = Promise.all([
      h.logged('waiting for a message on test/bath'),
      h.logged('waiting for a message on test/hall'),
    ])
    h.bus.send('home/split', '')
    await waiting
    expect(h.engine.holderOf('bath_bulb')).toBe('split')
    expect(h.engine.holderOf('hall_bulb')).toBe('split')

    const alarmHas = Promise.all(
      ['bath_bulb', 'hall_bulb'].map((id) => h!.bulb(id).nextCommand((e) => e.origin?.holder === 'alarm')),
    )
    h.bus.send('home/alarm', 'ON')
    await alarmHas
    await h.status('split', 'suspended')
    // Both branches wait again once the lock is back (a wait_for's message has not come yet).
    waiting = Promise.all([
      h.logged('waiting for a message on test/bath'),
      h.logged('waiting for a message on test/hall'),
    ])
    h.bus.send('home/alarm', 'OFF')
    await waiting
    h.bus.send('test/hall', '')
    await h.bulb('hall_bulb').nextCommand((e) => e.command.color === 'white')
    h.bus.send('test/bath', '')
    await h.status('split', 'idle')

    expect(order).toEqual([
      'bath:split:{"color":"red"}',
      'hall:split:{"color":"green"}',
      'bath:alarm:{"brightness":100}',
      'hall:alarm:{"brightness":100}',
      // Resumed: each bulb gets its look back before the branches go on.
      'bath:split:{"on":true,"brightness":40,"color":{"r":255,"g":0,"b":0}}',
      'hall:split:{"on":true,"brightness":40,"color":{"r":0,"g":128,"b":0}}',
      'hall:split:{"color":"white"}',
      'bath:split:{"color":"blue"}',
      expect.stringMatching(/^(bath|hall):split:\{"on":false\}$/),
      expect.stringMatching(/^(bath|hall):split:\{"on":false\}$/),
    ])
  })

  it('wait_for waits for a condition on the last payload of a topic, with timeouts that go on or fail', async () => {
    h = await harness({
      'patient.yaml': `
name: patient
devices: [bath_bulb]
trigger: { mqtt: home/patient }
steps:
  - wait_for: { condition: "last['home/level'] == 'high'", timeout: 1m }
  - set: { brightness: 100 }
  - wait_for: { mqtt: home/never, timeout: 5ms }
  - set: { brightness: 50 }
  - wait_for: { mqtt: home/never, timeout: 5ms, on_timeout: abort }
  - set: { brightness: 1 }
`,
    })
    const waiting = h.logged("waiting for last['home/level'] == 'high'")
    h.bus.send('home/patient', '')
    await waiting
    h.bus.send('home/level', 'low')
    expect(commands(h)).toEqual([])
    h.bus.send('home/level', 'high')
    await h.status('patient', 'idle')
    expect(commands(h)).toEqual([{ brightness: 100 }, { brightness: 50 }])
    expect(h.engine.status()[0]?.lastError).toBe('steps.4 (wait_for): timed out after 5 ms')
  })

  it('watches the topics expressions read: last_json in a template sees the payload that came before the run', async () => {
    h = await harness({
      'dimmer.yaml': `
name: dimmer
devices: [bath_bulb]
trigger: { mqtt: home/dimmer/apply }
steps:
  - set: { brightness: "{{ last_json['home/dimmer'].level }}" }
  - log: "dimmer at {{ last.home }}"
`,
    })
    h.bus.send('home/dimmer', '{"level":42}')
    h.bus.send('home', 'upstairs')
    h.bus.send('home/dimmer/apply', '')
    await h.status('dimmer', 'idle')
    expect(commands(h)).toEqual([{ brightness: 42 }])
    expect(h.lines.some((line) => line.msg === 'dimmer at upstairs')).toBe(true)
  })

  it('wait_for a message matching a condition; the message is `wait` afterwards', async () => {
    h = await harness({
      'door.yaml': `
name: door
devices: [bath_bulb]
trigger: { mqtt: home/door }
steps:
  - wait_for: { mqtt: "sensors/+/temp", condition: "wait.json.value > 30" }
  - set: { brightness: "{{ wait.json.value }}" }
`,
    })
    const waiting = h.logged('waiting for a message on sensors/+/temp')
    h.bus.send('home/door', '')
    await waiting
    h.bus.send('sensors/hall/temp', '{"value":20}')
    h.bus.send('sensors/hall/temp', 'junk')
    h.bus.send('sensors/bath/temp', '{"value":35}')
    await h.status('door', 'idle')
    expect(commands(h)).toEqual([{ brightness: 35 }])
  })

  it('a forever loop of instant steps still lets timers and I/O run, and stops', async () => {
    h = await harness({
      'spin.yaml': `
name: spin
devices: [bath_bulb]
trigger: { mqtt: home/spin }
stop: { mqtt: home/spin/stop }
steps:
  - repeat:
      forever: true
      steps:
        - set: { brightness: "{{ repeat.index % 100 }}" }
        - log: { message: "round {{ repeat.index }}", level: debug }
`,
    })
    h.bus.send('home/spin', '')
    // The sim bulb answers within microtasks: without the engine giving the event loop turns, this timer
    // would never fire and the test would hang.
    await new Promise((resolve) => setTimeout(resolve, 0))
    await h.bulb().waitForCommands(h.bulb().commandLog.length + 10)
    h.bus.send('home/spin/stop', '')
    await h.status('spin', 'idle')
    expect(h.bulb().commandLog.length).toBeGreaterThan(10)
  })
})

/**
 * The behaviours 1–7, end to end: a real mosquitto, the daemon (in this process, so the sim bulb's command
 * log can be read), MQTT messages published the way Home Assistant would.
 */
import { describe, expect, it } from 'vitest'
import type { SimCommandLogEntry } from '../../src/devices/index.js'
import { ALARM, PARTY, simBulb } from '../cli/setup-files.js'
import { daemonTestBed, startTestDaemon } from './harness.js'

const RED = { r: 255, g: 0, b: 0 }
const BLUE = { r: 0, g: 0, b: 255 }
const YELLOW = { r: 255, g: 255, b: 0 }

const by = (holder: string) => (entry: SimCommandLogEntry) => entry.origin?.holder === holder

describe('behaviours over MQTT', () => {
  const bed = daemonTestBed()

  async function start(automations: Record<string, string>) {
    bed.running = await startTestDaemon(bed.mosquitto.url, {
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
      automations,
    })
    return { ...bed.running, bulb: bed.running.bulb('bath_bulb') }
  }

  const statusIs = (t: { baseTopic: string }, name: string, state: string, from = 0) =>
    bed.mqtt.waitFor(
      (m) => m.topic === `${t.baseTopic}/automation/${name}` && JSON.parse(m.payload).state === state,
      from,
    )

  it('1. party ON cycles the bulb red, blue, yellow', async () => {
    const { bulb } = await start({ 'party.yaml': PARTY })
    await bed.mqtt.publish('home/party', 'ON')
    const log = await bulb.waitForCommands(3)
    expect(log.slice(0, 3).map((entry) => entry.state.color)).toEqual([RED, BLUE, YELLOW])
    expect(log.slice(0, 3).every(by('party'))).toBe(true)
    expect(log[0]!.state.brightness).toBe(80)
  })

  it('2–3. the alarm preempts the party at once, no party command gets through, the party resumes after it in its look', async () => {
    const { bulb } = await start({ 'party.yaml': PARTY, 'alarm.yaml': ALARM })
    const blue = bulb.nextCommand((entry) => by('party')(entry) && entry.state.color?.b === 255)
    await bed.mqtt.publish('home/party', 'ON')
    await blue // step 3 of 6
    const alarmStarts = bulb.nextCommand(by('alarm'))
    await bed.mqtt.publish('home/alarm', 'ON')
    const first = await alarmStarts
    expect(first.state).toMatchObject({ color: RED, brightness: 50 })
    // Let the alarm cycle twice (four commands), then switch it off.
    const firstIndex = bulb.commandLog.indexOf(first)
    while (bulb.commandLog.filter(by('alarm')).length < 4) await bulb.nextCommand()
    const partyBack = bulb.nextCommand(by('party'))
    const nextStep = bulb.nextCommand((entry) => by('party')(entry) && entry.state.color?.g === YELLOW.g)
    await bed.mqtt.publish('home/alarm', 'OFF')
    const resumed = await partyBack
    const resumedIndex = bulb.commandLog.indexOf(resumed)
    // Between the alarm's first command and the party coming back, only the alarm touched the bulb.
    expect(bulb.commandLog.slice(firstIndex, resumedIndex).every(by('alarm'))).toBe(true)
    // Back in its own look first (blue at 80 %, not the alarm's red at 100 %)...
    expect(resumed.state).toMatchObject({ on: true, color: BLUE, brightness: 80 })
    // ...then on at the step after `set blue` (its wait was cut short): yellow, not red from the start.
    const yellow = await nextStep
    expect(bulb.commandLog.indexOf(yellow)).toBe(resumedIndex + 1)
  })

  it('4. the alarm alone puts the bulb back as it was (restore: true)', async () => {
    const { bulb } = await start({ 'alarm.yaml': ALARM })
    await bulb.setState({ on: true, color: 'green', brightness: 30 })
    const before = bulb.state
    const bright = bulb.nextCommand((entry) => by('alarm')(entry) && entry.state.brightness === 100)
    await bed.mqtt.publish('home/alarm', 'ON')
    await bright
    const restored = bulb.nextCommand((entry) => entry.state.brightness === 30)
    await bed.mqtt.publish('home/alarm', 'OFF')
    const entry = await restored
    expect(entry.origin?.holder).toBe('alarm')
    expect(entry.state).toMatchObject({ on: before.on, brightness: before.brightness, color: before.color })
  })

  it('5. party OFF while suspended: after the alarm the bulb is restored and the party does not come back', async () => {
    const t = await start({ 'party.yaml': PARTY, 'alarm.yaml': ALARM })
    const { bulb } = t
    // Switched on first: a restore of a bulb that was off only switches it off, whatever its colour.
    await bulb.setState({ on: true })
    const from = bed.mqtt.mark
    const partyStarts = bulb.nextCommand(by('party'))
    await bed.mqtt.publish('home/party', 'ON')
    const partyRed = await partyStarts
    const alarmStarts = bulb.nextCommand(by('alarm'))
    await bed.mqtt.publish('home/alarm', 'ON')
    await alarmStarts
    await statusIs(t, 'party', 'suspended', from)
    const idleFrom = bed.mqtt.mark
    await bed.mqtt.publish('home/party', 'OFF')
    await statusIs(t, 'party', 'idle', idleFrom)
    const restored = bulb.nextCommand((entry) => by('alarm')(entry) && entry.state.brightness === 80)
    await bed.mqtt.publish('home/alarm', 'OFF')
    const entry = await restored
    expect(entry.state).toMatchObject({ on: true, color: partyRed.state.color, brightness: 80 })
    await statusIs(t, 'alarm', 'idle', idleFrom)
    expect(t.daemon.engine.status().find((s) => s.name === 'party')?.state).toBe('idle')
    expect(bulb.commandLog.slice(bulb.commandLog.indexOf(entry)).some(by('party'))).toBe(false)
  })

  /** Three steps; between them the run waits for `home/<mode>/next`, so the test, not a clock, paces it. */
  const paced = (mode: string) => `name: ${mode}_mode
priority: 0
mode: ${mode}
devices: [bath_bulb]
trigger:
  - mqtt: home/${mode}
    payload: "GO"
stop:
  - mqtt: home/${mode}
    payload: "STOP"
steps:
  - set: { brightness: 10 }
  - wait_for: { mqtt: home/${mode}/next }
  - set: { brightness: 20 }
  - wait_for: { mqtt: home/${mode}/next }
  - set: { brightness: 30 }
`

  it('6. modes: single ignores a re-trigger, restart starts over, queued runs again; a stop when idle is harmless', async () => {
    const t = await start({ 's.yaml': paced('single'), 'r.yaml': paced('restart'), 'q.yaml': paced('queued') })
    const { bulb } = t
    const brightnesses = (from: number) => bulb.commandLog.slice(from).map((entry) => entry.state.brightness)
    /** Publishes `home/<mode>/next` once the run has sent its `count`-th command since `from`, `times` times. */
    const pace = async (mode: string, from: number, counts: number[]) => {
      for (const count of counts) {
        await bulb.waitForCommands(from + count)
        await bed.mqtt.publish(`home/${mode}/next`, '')
      }
    }

    let from = bulb.commandLog.length
    let logs = t.logs.mark
    await bed.mqtt.publish('home/single', 'GO')
    await bulb.waitForCommands(from + 1)
    await bed.mqtt.publish('home/single', 'GO')
    await t.logs.waitFor((l) => l.msg === 'already running; trigger ignored (mode: single)', logs)
    await pace('single', from, [1, 2])
    await t.logs.waitFor((l) => l.automation === 'single_mode' && l.msg === 'finished', logs)
    expect(brightnesses(from)).toEqual([10, 20, 30])

    from = bulb.commandLog.length
    logs = t.logs.mark
    await bed.mqtt.publish('home/restart', 'GO')
    await bulb.waitForCommands(from + 1)
    await bed.mqtt.publish('home/restart', 'GO')
    await pace('restart', from, [2, 3])
    await t.logs.waitFor((l) => l.automation === 'restart_mode' && l.msg === 'finished', logs)
    expect(brightnesses(from)).toEqual([10, 10, 20, 30])

    from = bulb.commandLog.length
    logs = t.logs.mark
    const statusFrom = bed.mqtt.mark
    await bed.mqtt.publish('home/queued', 'GO')
    await bulb.waitForCommands(from + 1)
    await bed.mqtt.publish('home/queued', 'GO')
    // The second trigger is in (queued) before the first run is paced to its end.
    const triggered = (l: { automation?: unknown; msg: string }) =>
      l.automation === 'queued_mode' && /^triggered/.test(l.msg)
    const first = await t.logs.waitFor(triggered, logs)
    await t.logs.waitFor(triggered, t.logs.entries.indexOf(first) + 1)
    await pace('queued', from, [1, 2, 4, 5])
    await statusIs(t, 'queued_mode', 'idle', statusFrom + 1)
    await bulb.waitForCommands(from + 6)
    expect(brightnesses(from)).toEqual([10, 20, 30, 10, 20, 30])

    const errorsBefore = t.logs.entries.filter((l) => l.level >= 50).length
    logs = t.logs.mark
    await bed.mqtt.publish('home/single', 'STOP')
    await t.logs.waitFor((l) => typeof l.msg === 'string' && l.msg.includes('not running; nothing to stop'), logs)
    from = bulb.commandLog.length
    await bed.mqtt.publish('home/single', 'GO')
    await bulb.waitForCommands(from + 1)
    expect(t.logs.entries.filter((l) => l.level >= 50)).toHaveLength(errorsBefore)
  })

  it('7. junk and oversized payloads are logged and dropped; the daemon keeps going', async () => {
    const json = `name: by_json
priority: 0
devices: [bath_bulb]
trigger:
  - mqtt: home/button
    json: { action: single }
steps:
  - set: { brightness: 42 }
`
    const t = await start({ 'party.yaml': PARTY, 'json.yaml': json })
    const mark = t.logs.mark
    await bed.mqtt.publish('home/button', Buffer.from([0xff, 0x00, 0xfe, 0x7b]))
    await t.logs.waitFor((l) => /not JSON; dropped/.test(l.msg), mark)
    await bed.mqtt.publish('home/party', Buffer.alloc(300 * 1024, 'x'))
    const dropped = await t.logs.waitFor((l) => l.msg === 'mqtt payload too large; dropped', mark)
    expect(dropped).toMatchObject({ topic: 'home/party', bytes: 300 * 1024 })
    const next = t.bulb.nextCommand()
    await bed.mqtt.publish('home/button', JSON.stringify({ action: 'single' }))
    const entry = await next
    expect(entry).toMatchObject({ origin: { holder: 'by_json' }, state: { brightness: 42 } })
  })

  it('7. an unreachable bulb fails the step and sets last_error; the daemon keeps running', async () => {
    const t = await start({ 'party.yaml': PARTY, 'alarm.yaml': ALARM })
    const { bulb } = t
    bulb.setReachable(false)
    const from = bed.mqtt.mark
    await bed.mqtt.publish('home/party', 'ON')
    const failed = await bed.mqtt.waitFor(
      (m) => m.topic === `${t.baseTopic}/automation/party` && JSON.parse(m.payload).last_error !== null,
      from,
    )
    expect(JSON.parse(failed.payload)).toMatchObject({ state: 'idle', last_error: expect.stringMatching(/bath_bulb/) })
    bulb.setReachable(true)
    const next = bulb.nextCommand()
    await bed.mqtt.publish('home/alarm', 'ON')
    expect((await next).origin?.holder).toBe('alarm')
  })
})

/**
 * "Held by" follows the lock the moment it changes hands — a run ends, is suspended, resumes, a manual command
 * ends — on the retained `<base>/device/<id>` and so in Home Assistant's "Held by" sensor, which reads it. No bulb
 * state change is needed for it to move (it used to wait for one).
 */
import { describe, expect, it } from 'vitest'
import type { SimCommandLogEntry } from '../../src/devices/index.js'
import { ALARM, PARTY, simBulb } from '../cli/setup-files.js'
import type { Seen } from '../mqtt/observer.js'
import { haTestBed } from './support.js'

/** A finite automation: two colours, then it ends. */
const FLASH = `name: flash
priority: 0
devices: [bath_bulb]
trigger:
  - mqtt: home/flash
steps:
  - set: { color: green }
  - wait: 100ms
  - set: { color: white }
`

const by = (holder: string) => (entry: SimCommandLogEntry) => entry.origin?.holder === holder

describe('held by', () => {
  const bed = haTestBed(['homeassistant/#', '+/device/+'])

  async function start() {
    const begin = bed.ha.mark
    const genlock = await bed.start({
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
      automations: { 'party.yaml': PARTY, 'alarm.yaml': ALARM, 'flash.yaml': FLASH },
    })
    const deviceTopic = `${genlock.baseTopic}/device/bath_bulb`
    const sensor = await bed.ha.waitFor(
      (m) => m.topic.startsWith('homeassistant/sensor/') && m.topic.includes('_holder_bath_bulb') && m.payload !== '',
      begin,
    )
    const config = JSON.parse(sensor.payload) as { state_topic: string; value_template: string }
    // The sensor is the device topic's holder, `none` when free: what HA shows is what the topic says.
    expect(config.state_topic).toBe(deviceTopic)
    expect(config.value_template).toBe("{{ value_json.holder if value_json.holder else 'none' }}")
    const sensorValue = (m: Seen) => (JSON.parse(m.payload) as { holder: string | null }).holder ?? 'none'
    /** The next "Held by" value (after `from`) that is `value`. */
    const heldBy = (value: string, from: number) =>
      bed.ha.waitFor((m) => m.topic === deviceTopic && m.payload !== '' && sensorValue(m) === value, from)
    const values = (from: number) =>
      bed.ha.seen
        .slice(from)
        .filter((m) => m.topic === deviceTopic)
        .map(sensorValue)
    const bulb = genlock.bulb('bath_bulb')
    return {
      genlock,
      bulb,
      heldBy,
      values,
      command: (body: object) => bed.ha.publish(`${deviceTopic}/light/set`, JSON.stringify(body)),
    }
  }

  it('goes back to none the moment a run ends, without waiting for the bulb to change', async () => {
    const { bulb, heldBy } = await start()
    const from = bed.ha.mark
    await bed.ha.publish('home/flash', 'ON')
    await heldBy('flash', from)
    const [, last] = await bulb.waitForCommands(2)
    const freed = await heldBy('none', from)
    // Free with the state the run left, and nothing was sent to the bulb after the run's last command.
    expect(JSON.parse(freed.payload).state).toMatchObject({ color: last!.state.color })
    expect(bulb.commandLog.at(-1)).toBe(last)
  })

  it('moves to the alarm the moment it suspends the party, and back when the party resumes', async () => {
    const { bulb, heldBy, values } = await start()
    const from = bed.ha.mark
    await bed.ha.publish('home/party', 'ON')
    await heldBy('party', from)
    const suspended = bed.ha.mark
    await bed.ha.publish('home/alarm', 'ON')
    await heldBy('alarm', suspended)
    // A hand-over is one change: never a `none` in between while the lock went from one to the other.
    expect(values(suspended)).not.toContain('none')
    await bulb.nextCommand(by('alarm'))
    const resumed = bed.ha.mark
    await bed.ha.publish('home/alarm', 'OFF')
    await heldBy('party', resumed)
    await bed.ha.publish('home/party', 'OFF')
    await heldBy('none', resumed)
  })

  it('shows manual, with when the hold ends, while a command from Home Assistant holds the bulb', async () => {
    const { genlock, bulb, heldBy, command } = await start()
    const release = () => bed.ha.publish(`${genlock.baseTopic}/device/bath_bulb/release`, 'RELEASE')
    // Alone: manual, with the end of the hold, then none once released.
    let from = bed.ha.mark
    const applied = bulb.nextCommand(by('manual'))
    await command({ state: 'ON', brightness: 30 })
    await applied
    const held = await heldBy('manual', from)
    const hold = (JSON.parse(held.payload) as { hold?: { until: string; remaining_s: number } }).hold
    // The default hold is 30 minutes.
    expect(hold?.remaining_s).toBeGreaterThan(29 * 60)
    expect(hold?.remaining_s).toBeLessThanOrEqual(30 * 60)
    expect(Date.parse(hold!.until)).not.toBeNaN()
    await release()
    const freed = await heldBy('none', from)
    expect(JSON.parse(freed.payload)).not.toHaveProperty('hold')
    // Over the party: manual takes it (the party is suspended), and the party has it back when the hold ends.
    await bed.ha.publish('home/party', 'ON')
    await heldBy('party', from)
    from = bed.ha.mark
    await command({ state: 'ON', brightness: 10 })
    await heldBy('manual', from)
    await release()
    await heldBy('party', from)
    await bed.ha.publish('home/party', 'OFF')
    await heldBy('none', from)
  })

  it('switching the bulb off from Home Assistant ends the hold: the party has the bulb back', async () => {
    const { bulb, heldBy, command } = await start()
    let from = bed.ha.mark
    await bed.ha.publish('home/party', 'ON')
    await heldBy('party', from)
    from = bed.ha.mark
    await command({ state: 'ON', brightness: 10 })
    await heldBy('manual', from)
    const off = bulb.nextCommand((entry) => by('manual')(entry) && entry.command.on === false)
    const back = bed.ha.mark
    await command({ state: 'OFF' })
    expect((await off).state.on).toBe(false)
    // The off was applied under the hold, then the lock let go: the party goes on (and switches the bulb on).
    await heldBy('party', back)
    await bed.ha.publish('home/party', 'OFF')
    await heldBy('none', back)
  })

  it('with manual.hold 0, a command is momentary: manual, then the party has it back at once', async () => {
    const begin = bed.ha.mark
    const genlock = await bed.start(
      { devices: { 'bath_bulb.yaml': simBulb('bath_bulb') }, automations: { 'party.yaml': PARTY } },
      'manual: { hold: 0 }',
    )
    const deviceTopic = `${genlock.baseTopic}/device/bath_bulb`
    const holder = (m: Seen) => (JSON.parse(m.payload) as { holder: string | null }).holder ?? 'none'
    const heldBy = (value: string, from: number) =>
      bed.ha.waitFor((m) => m.topic === deviceTopic && m.payload !== '' && holder(m) === value, from)
    await bed.ha.publish('home/party', 'ON')
    await heldBy('party', begin)
    const from = bed.ha.mark
    await bed.ha.publish(`${deviceTopic}/light/set`, JSON.stringify({ state: 'ON', brightness: 10 }))
    await heldBy('manual', from)
    await heldBy('party', from)
    await bed.ha.publish('home/party', 'OFF')
    await heldBy('none', from)
  })
})

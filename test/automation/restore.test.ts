/**
 * `restore` puts back what was there: on/off, brightness and colour as they were before the automation took the
 * bulb (an off bulb keeps its look where the bulb can), the newest real state (a change made outside genlock
 * included), and nothing when someone else took the bulb since.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { restoreCommand } from '../../src/automation/restore.js'
import { harness, type Harness } from './support.js'

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

/** The doorbell of the first round: flashes cool white at 10 %, then switches the bulb off. */
const DOORBELL = `name: doorbell
priority: 150
devices: [bath_bulb]
restore: true
trigger: { mqtt: home/doorbell }
steps:
  - set: { on: true, brightness: 10, color_temp: 6500 }
  - wait: 50ms
  - set: { on: false }
`

const MANUAL = `name: person
priority: 100
devices: [bath_bulb]
trigger: { mqtt: home/person }
steps:
  - set: { brightness: 60, color_temp: 3000 }
`

describe('restore', () => {
  it('brings an off bulb back off with the look it had (100 % warm), not the flash it ended in (10 % 6500 K)', async () => {
    h = await harness(
      { 'doorbell.yaml': DOORBELL },
      { initialState: { on: false, brightness: 100, colorTemp: 2700, reachable: true } },
    )
    const restored = h.logged('restored bath_bulb')
    h.bus.send('home/doorbell', '')
    await restored
    expect(h.bulb().commandLog.at(-1)!.command).toEqual({ on: false, brightness: 100, colorTemp: 2700 })
    expect(h.bulb().state).toEqual({ on: false, brightness: 100, colorTemp: 2700, reachable: true })
  })

  it('restores the newest real state: a change made outside genlock before the automation took the bulb', async () => {
    h = await harness(
      { 'doorbell.yaml': DOORBELL },
      { initialState: { on: true, brightness: 40, colorTemp: 2700, reachable: true } },
    )
    // Someone dims the bulb in the app; genlock hears of it as an outside change.
    h.bulb().changeFromApp({ brightness: 25, colorTemp: 4000 })
    const restored = h.logged('restored bath_bulb')
    h.bus.send('home/doorbell', '')
    await restored
    expect(h.bulb().state).toMatchObject({ on: true, brightness: 25, colorTemp: 4000 })
  })

  it('is skipped when someone else took the bulb since: theirs is the newer choice', async () => {
    h = await harness({ 'doorbell.yaml': DOORBELL, 'person.yaml': MANUAL.replace('priority: 100', 'priority: 200') })
    const doorbellHas = h.bulb().nextCommand((entry) => entry.origin?.holder === 'doorbell')
    h.bus.send('home/doorbell', '')
    await doorbellHas
    const person = h.bulb().nextCommand((entry) => entry.origin?.holder === 'person')
    h.bus.send('home/person', '')
    await person
    const skipped = await h.logged('not restoring bath_bulb: person took it since')
    expect(skipped['by']).toBe('person')
    await h.status('doorbell', 'idle')
    expect(
      h
        .bulb()
        .commandLog.some(
          (entry) => entry.origin?.holder === 'doorbell' && entry.command.on === false && 'brightness' in entry.command,
        ),
    ).toBe(false)
  })

  it('puts an off look back only where the bulb keeps it while off', () => {
    const off = { on: false, brightness: 100, colorTemp: 2700, reachable: true }
    expect(restoreCommand(off, true)).toEqual({ on: false, brightness: 100, colorTemp: 2700 })
    // Hue and Zigbee2MQTT lights would switch on for a brightness: just off.
    expect(restoreCommand(off, false)).toEqual({ on: false })
    expect(restoreCommand({ on: true, brightness: 30, color: { r: 255, g: 0, b: 0 }, reachable: true })).toEqual({
      on: true,
      brightness: 30,
      color: { r: 255, g: 0, b: 0 },
    })
  })
})

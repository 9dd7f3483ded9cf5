import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { harness, locksIdle, type Harness } from './support.js'

/** The party and alarm, exactly as shipped, with their waits shortened so the test takes milliseconds. */
function shipped(file: string): string {
  return readFileSync(new URL(`../../automations/${file}`, import.meta.url), 'utf8')
    .replace(/wait: 1s/g, 'wait: 20ms')
    .replace(/wait: 500ms/g, 'wait: 10ms')
}

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

async function partyAndAlarm(): Promise<Harness> {
  h = await harness({ 'party.yaml': shipped('party.yaml'), 'alarm.yaml': shipped('alarm.yaml') })
  return h
}

describe('party and alarm on one bulb', () => {
  it('1. party ON cycles red, blue, yellow, red', async () => {
    const { bus, bulb } = await partyAndAlarm()
    bus.send('home/party', 'ON')
    const log = await bulb().waitForCommands(4)
    expect(log.slice(0, 4).map((entry) => entry.command.color)).toEqual(['red', 'blue', 'yellow', 'red'])
    expect(log[0]!.command).toEqual({ color: 'red', brightness: 80 })
    expect(log.every((entry) => entry.origin?.holder === 'party')).toBe(true)
  })

  it('2+3. alarm preempts within one step, party stays off the bulb, then resumes in its look at the next step', async () => {
    const { bus, bulb, engine } = await partyAndAlarm()
    const blue = bulb().nextCommand((entry) => entry.command.color === 'blue')
    bus.send('home/party', 'ON')
    await blue
    const firstAlarm = bulb().nextCommand((entry) => entry.origin?.holder === 'alarm')
    bus.send('home/alarm', 'ON')
    const alarmStart = bulb().commandLog.length
    const first = await firstAlarm
    expect(first.command).toEqual({ color: 'red', brightness: 50 })
    // At most the party command already on its way when the alarm came can land before the alarm's first.
    expect(bulb().commandLog.indexOf(first) - alarmStart).toBeLessThanOrEqual(1)
    expect(engine.holderOf('bath_bulb')).toBe('alarm')
    expect(engine.status().find((s) => s.name === 'party')?.state).toBe('suspended')

    await bulb().waitForCommands(bulb().commandLog.indexOf(first) + 6) // three alarm cycles
    const resumed = bulb().nextCommand((entry) => entry.origin?.holder === 'party')
    const yellowAgain = bulb().nextCommand(
      (entry) => entry.origin?.holder === 'party' && entry.command.color === 'yellow',
    )
    bus.send('home/alarm', 'OFF')
    const next = await resumed
    const underAlarm = bulb().commandLog.slice(bulb().commandLog.indexOf(first), bulb().commandLog.indexOf(next))
    expect(underAlarm.length).toBeGreaterThanOrEqual(6)
    expect(underAlarm.every((entry) => entry.origin?.holder === 'alarm')).toBe(true)
    // First its own look back (blue at 80 %, not the alarm's red at 100 %), then on with yellow, not from red.
    expect(next.command).toEqual({ on: true, brightness: 80, color: { r: 0, g: 0, b: 255 } })
    expect(next.origin!.token!).toBeGreaterThan(first.origin!.token!)
    const yellow = await yellowAgain
    expect(bulb().commandLog.indexOf(yellow)).toBe(bulb().commandLog.indexOf(next) + 1)
    // The party took the bulb back at once, so the alarm's restore must not have run over it.
    await h!.status('alarm', 'idle')
    expect(
      bulb()
        .commandLog.slice(bulb().commandLog.indexOf(next))
        .every((e) => e.origin?.holder === 'party'),
    ).toBe(true)
    expect(engine.holderOf('bath_bulb')).toBe('party')
  })

  it('4. alarm alone: when it stops the bulb goes back to how it was', async () => {
    const { bus, bulb, protocol } = await partyAndAlarm()
    const before = bulb().state
    bus.send('home/alarm', 'ON')
    await bulb().waitForCommands(3)
    const restored = bulb().nextCommand()
    bus.send('home/alarm', 'OFF')
    const entry = await restored
    expect(entry.origin?.holder).toBe('alarm')
    expect(entry.command).toEqual({ on: true, brightness: 40, colorTemp: 2700 })
    expect(entry.state).toMatchObject({ on: before.on, brightness: before.brightness, colorTemp: before.colorTemp })
    await h!.status('alarm', 'idle')
    await locksIdle(protocol)
  })

  it('5. party OFF while suspended: after the alarm the bulb is restored and the party stays off', async () => {
    const { bus, bulb, engine, protocol } = await partyAndAlarm()
    const blue = bulb().nextCommand((entry) => entry.command.color === 'blue')
    bus.send('home/party', 'ON')
    await blue
    const firstAlarm = bulb().nextCommand((entry) => entry.origin?.holder === 'alarm')
    bus.send('home/alarm', 'ON')
    await firstAlarm
    bus.send('home/party', 'OFF')
    await h!.status('party', 'idle')
    const restored = bulb().nextCommand((entry) => entry.command.brightness === 80 || 'on' in entry.command)
    bus.send('home/alarm', 'OFF')
    const entry = await restored
    expect(entry.origin?.holder).toBe('alarm')
    // Blue at the party's brightness, as the party left it.
    expect(entry.command).toMatchObject({ on: true, brightness: 80, color: { r: 0, g: 0, b: 255 } })
    await h!.status('alarm', 'idle')
    await locksIdle(protocol)
    expect(engine.status().map((s) => s.state)).toEqual(['idle', 'idle'])
    expect(bulb().commandLog.at(-1)).toBe(entry)
  })
})

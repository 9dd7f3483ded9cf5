import { describe, expect, it } from 'vitest'
import type { BulbEvent } from '../../src/devices/bulb.js'
import {
  DeviceTimeoutError,
  DeviceUnreachableError,
  InvalidCommandError,
  UnsupportedCommandError,
} from '../../src/devices/errors.js'
import { SimBulb } from '../../src/devices/sim/sim-bulb.js'

const white = { dimmable: true, color: false, colorTemp: { min: 2700, max: 6500 } }

describe('SimBulb', () => {
  it('applies commands in order and logs time, command, origin and resulting state', async () => {
    let now = 1000
    const bulb = new SimBulb({ id: 'bath_bulb', clock: () => now++ })
    await bulb.start()
    const results = await Promise.all([
      bulb.setPower(true, { holder: 'morning', token: 1 }),
      bulb.setColor('#ff0000', { holder: 'alarm', token: 2 }),
      bulb.setBrightness(40),
    ])
    expect(results[2]).toEqual({ on: true, brightness: 40, color: { r: 255, g: 0, b: 0 }, reachable: true })
    expect(bulb.commandLog.map((entry) => [entry.at, entry.origin?.holder, entry.command])).toEqual([
      [1000, 'morning', { on: true }],
      [1001, 'alarm', { on: true, color: '#ff0000' }],
      [1002, undefined, { on: true, brightness: 40 }],
    ])
    expect(bulb.state).toEqual(results[2])
  })

  it('lets a test await the next command instead of sleeping', async () => {
    const bulb = new SimBulb({ id: 'b', latencyMs: 5 })
    const next = bulb.nextCommand((entry) => entry.command.brightness === 70)
    void bulb.setBrightness(10)
    void bulb.setBrightness(70)
    expect((await next).state.brightness).toBe(70)
    expect(bulb.commandLog).toHaveLength(2)
  })

  it('gives a white-only bulb the nearest white for a colour (red -> warm end, blue -> cool end)', async () => {
    const bulb = new SimBulb({ id: 'hall_bulb', capabilities: white })
    expect((await bulb.setColor('red')).colorTemp).toBe(2700)
    expect((await bulb.setColor('blue')).colorTemp).toBe(6500)
    expect((await bulb.setState({ colorTemp: 9000 })).colorTemp).toBe(6500)
    expect(bulb.state.color).toBeUndefined()
  })

  it('refuses colours on a dimmable-only bulb and malformed commands, naming the device', async () => {
    const bulb = new SimBulb({ id: 'porch', capabilities: { dimmable: true, color: false } })
    await expect(bulb.setColor('red')).rejects.toThrow(UnsupportedCommandError)
    await expect(bulb.setColor('red')).rejects.toThrow('porch (sim) cannot show colours')
    await expect(bulb.setBrightness(140)).rejects.toThrow(InvalidCommandError)
    await expect(bulb.setColor('notacolour')).rejects.toThrow("'notacolour' is not a colour")
    expect(bulb.commandLog).toHaveLength(0)
  })

  it('fades brightness over a transition', async () => {
    let now = 0
    const bulb = new SimBulb({ id: 'b', clock: () => now, initialState: { on: true, brightness: 0, reachable: true } })
    await bulb.setState({ brightness: 100, transition: 1000 })
    now = 250
    expect(bulb.brightnessAt()).toBe(25)
    now = 1000
    expect(bulb.brightnessAt()).toBe(100)
  })

  it('reports availability when unplugged and rejects commands with DeviceUnreachableError', async () => {
    const bulb = new SimBulb({ id: 'b' })
    const events: BulbEvent[] = []
    bulb.subscribe((event) => events.push(event))
    bulb.setReachable(false)
    await expect(bulb.setPower(true)).rejects.toThrow(DeviceUnreachableError)
    bulb.setReachable(true)
    expect(
      events
        .filter((event) => event.type === 'availability')
        .map((event) => event.type === 'availability' && event.reachable),
    ).toEqual([false, true])
    await expect(bulb.setPower(true)).resolves.toMatchObject({ on: true })
  })

  it('emits a state event for each change, and none for a command that changes nothing', async () => {
    const bulb = new SimBulb({ id: 'b' })
    const states: boolean[] = []
    const stop = bulb.subscribe((event) => event.type === 'state' && states.push(event.state.on))
    await bulb.setPower(true)
    await bulb.setPower(true)
    await bulb.setPower(false)
    stop()
    await bulb.setPower(true)
    expect(states).toEqual([true, false])
  })

  it('retries simulated transient failures', async () => {
    const rolls = [0, 0, 0.9]
    const bulb = new SimBulb({ id: 'b', failureRate: 0.5, random: () => rolls.shift() ?? 0.9, queue: { backoffMs: 0 } })
    await expect(bulb.setPower(true)).resolves.toMatchObject({ on: true })
    expect(bulb.commandLog).toHaveLength(1)
    expect(rolls).toHaveLength(0)
  })

  it('times out when hung, and only its own queue waits', async () => {
    const hung = new SimBulb({ id: 'stuck', queue: { timeoutMs: 30, retries: 0 } })
    const other = new SimBulb({ id: 'fine' })
    hung.setHung(true)
    const pending = hung.setPower(true)
    await expect(other.setPower(true)).resolves.toMatchObject({ on: true })
    await expect(pending).rejects.toThrow(new DeviceTimeoutError('stuck (sim)', 30))
    expect(hung.state.reachable).toBe(false)
  })
})

describe('SimBulb command log', () => {
  it('keeps only the most recent commandLogLimit entries', async () => {
    const bulb = new SimBulb({ id: 'b', commandLogLimit: 3 })
    for (const level of [10, 20, 30, 40, 50]) await bulb.setState({ brightness: level })
    expect(bulb.commandLog.map((entry) => entry.state.brightness)).toEqual([30, 40, 50])
  })
})

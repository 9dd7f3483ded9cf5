import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BulbEvent, BulbState } from '../../src/devices/bulb.js'
import type { HueBulb } from '../../src/devices/hue/hue-bulb.js'
import { HueBridgeSimulator } from '../../src/simulators/hue-bridge.js'
import { simulatedHueBulb, streamOpen, streamWitness } from './support/hue.js'

const KEY = 'live-state-key-0123456789'

/** The states of the events that say a change was made outside genlock (the Hue app, a switch). */
function outsideStates(events: readonly BulbEvent[]): BulbState[] {
  return events.flatMap((event) => (event.type === 'state' && event.outside === true ? [event.state] : []))
}

/** Resolves with the first state event whose state `predicate` accepts. */
function stateWhere(bulb: HueBulb, predicate: (state: BulbState) => boolean): Promise<BulbState> {
  return new Promise((resolve) => {
    const off = bulb.subscribe((event) => {
      if (event.type !== 'state' || !predicate(event.state)) return
      off()
      resolve(event.state)
    })
  })
}

describe('HueBulb keeps its state live from the bridge event stream', () => {
  let bridge: HueBridgeSimulator
  let bulb: HueBulb
  beforeEach(async () => {
    bridge = await HueBridgeSimulator.start({ users: [KEY] })
    bulb = simulatedHueBulb(bridge, KEY)
    await bulb.start()
  })
  afterEach(async () => {
    await bulb.stop()
    await bridge.stop()
  })

  it('sees a change made in the app: the state follows and a state event says so', async () => {
    await streamOpen(bridge)
    const events: BulbEvent[] = []
    bulb.subscribe((event) => events.push(event))
    const seen = stateWhere(bulb, (state) => state.brightness === 30)
    bridge.changeFromApp(1, { on: true, brightness: 30, xy: { x: 0.2, y: 0.1 } })
    expect(await seen).toMatchObject({ on: true, brightness: 30, reachable: true })
    expect(outsideStates(events)).toEqual([await seen])
    expect(bulb.state).toEqual(await seen)
    expect(bulb.state.color).toBeDefined()
    expect(bulb.state.colorTemp).toBeUndefined()
  })

  it("does not count the echo of genlock's own commands as a change, despite gamut and mirek rounding", async () => {
    // Each of these comes back from the bridge a little different: 2700 K as 370 mirek (2703 K), orange and
    // purple as xy of four decimals and then 8-bit RGB again.
    const commands = [
      { colorTemp: 4000 },
      { color: 'orange', brightness: 42 },
      { color: '#8000ff' },
      { colorTemp: 2700 },
    ]
    await streamOpen(bridge)
    const stream = await streamWitness(bridge, KEY)
    const events: BulbEvent[] = []
    bulb.subscribe((event) => events.push(event))
    const commanded: BulbState[] = []
    try {
      for (const command of commands) commanded.push(await bulb.setState(command))
      // Every echo has been heard (the bridge sends it before it answers the command) before the lamp is read back.
      await stream.caughtUp()
    } finally {
      await stream.stop()
    }
    // Reading the lamp back is no change either: 370 mirek is still the 2700 K genlock asked for.
    expect(await bulb.getStatus()).toEqual(commanded.at(-1))
    // The stream is ordered: once the app's change arrives, every echo before it has been handled.
    const app = stateWhere(bulb, (state) => state.brightness === 77)
    bridge.changeFromApp(1, { brightness: 77 })
    await app
    // A change from outside is the bridge's state as it is: 370 mirek is 2703 K.
    expect(outsideStates(events)).toEqual([{ on: true, brightness: 77, colorTemp: 2703, reachable: true }])
    expect(bulb.state).toEqual({ on: true, brightness: 77, colorTemp: 2703, reachable: true })
  })

  it('after the stream drops, reconnects with backoff and reads the state again, catching what it missed', async () => {
    await streamOpen(bridge)
    bridge.refuseEventStreams(true)
    const refused = bridge.nextRequest((request) => request.api === 'stream')
    bridge.dropEventStreams()
    await refused
    // Changed while genlock cannot hear the bridge: no event can carry it.
    bridge.changeFromApp(1, { on: true, brightness: 12 })
    expect(bulb.state.brightness).toBe(100)
    const caughtUp = stateWhere(bulb, (state) => state.brightness === 12)
    bridge.refuseEventStreams(false)
    expect(await caughtUp).toMatchObject({ on: true, brightness: 12 })
    // And the new stream carries later changes.
    const later = stateWhere(bulb, (state) => state.brightness === 64)
    bridge.changeFromApp(1, { brightness: 64 })
    await later
    expect(bridge.openStreams).toBe(1)
  })

  it('merges a flood of commands for one light: the lamp ends at the newest value after two requests', async () => {
    const levels = Array.from({ length: 40 }, (_, i) => i + 1)
    const results = await Promise.all(levels.map((brightness) => bulb.setState({ brightness })))
    // The first went at once; the 39 that queued behind it were more than the bridge's budget: merged, latest wins.
    expect(bridge.lightCommands(1).map(({ body }) => body)).toEqual([
      { on: { on: true }, dimming: { brightness: 1 } },
      { on: { on: true }, dimming: { brightness: 40 } },
    ])
    expect(results[0]!.brightness).toBe(1)
    expect(results.slice(1).every((state) => state.brightness === 40)).toBe(true)
    expect(bridge.light(1).brightness).toBe(40)
  })
})

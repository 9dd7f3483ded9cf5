import { describe, expect, it } from 'vitest'
import type { BulbEvent, BulbState } from '../../../src/devices/bulb.js'
import type { BulbHarness } from './bulb-contract.js'

/** A change a person makes on the device itself; each harness says it in the device's own terms. */
export interface AppChange {
  readonly on: boolean
  /** Percent. */
  readonly brightness: number
}

/** A {@link BulbHarness} whose device can also be changed behind genlock's back. */
export interface OutsideChangeHarness extends BulbHarness {
  /** Changes the device as its app, a remote or a wall switch would. */
  changeFromApp(change: AppChange): Promise<void>
  /** Returns once the adapter has seen the device's current state (a poll, or the pushed state and a status read). */
  observe(): Promise<void>
}

/**
 * Contract 4: every adapter tells a person's change from the echo of genlock's own command. Run once per adapter
 * against its simulator.
 */
export function runOutsideChangeContract(adapter: string, createHarness: () => Promise<OutsideChangeHarness>): void {
  describe(`Outside changes: ${adapter}`, () => {
    async function withHarness(run: (harness: OutsideChangeHarness, events: BulbEvent[]) => Promise<void>) {
      const harness = await createHarness()
      const events: BulbEvent[] = []
      const off = harness.bulb.subscribe((event) => events.push(event))
      try {
        await run(harness, events)
      } finally {
        off()
        await harness.bulb.stop()
        await harness.dispose()
      }
    }

    const outside = (events: BulbEvent[]) =>
      events.flatMap((event) => (event.type === 'state' && event.outside ? [event.state] : []))

    it("genlock's own commands, read back from the device, are never outside changes", () =>
      withHarness(async ({ bulb, observe }, events) => {
        const commands = [
          { on: true, color: 'red', brightness: 40 },
          { color: '#ff8800' },
          { color: 'blue', brightness: 73 },
          { colorTemp: 2700 },
          { colorTemp: 4000, brightness: 1 },
          { color: 'purple' },
          { on: false },
          { on: true, brightness: 100 },
        ]
        for (const command of commands) {
          await bulb.setState(command)
          await observe()
        }
        expect(outside(events)).toEqual([])
      }))

    it('a change made on the device is an outside change, reported once', () =>
      withHarness(async ({ bulb, changeFromApp, observe }, events) => {
        await bulb.setState({ on: true, brightness: 80 })
        await observe()
        const seen = new Promise<BulbState>((resolve) =>
          bulb.subscribe((event) => event.type === 'state' && event.outside && resolve(event.state)),
        )
        await changeFromApp({ on: true, brightness: 20 })
        await observe()
        expect(await seen).toMatchObject({ on: true, brightness: 20 })
        await observe()
        expect(outside(events)).toHaveLength(1)
        expect(bulb.state).toMatchObject({ on: true, brightness: 20 })
      }))

    it('after an outside change, genlock takes the bulb back with its next command, which is not an outside change', () =>
      withHarness(async ({ bulb, changeFromApp, observe }, events) => {
        await bulb.setState({ on: true, brightness: 60 })
        await changeFromApp({ on: false, brightness: 60 })
        await observe()
        expect(outside(events)).toEqual([expect.objectContaining({ on: false })])
        await bulb.setState({ on: true, brightness: 35 })
        await observe()
        expect(outside(events)).toHaveLength(1)
        expect(bulb.state).toMatchObject({ on: true, brightness: 35 })
      }))
  })
}

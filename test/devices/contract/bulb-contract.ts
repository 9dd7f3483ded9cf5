import { describe, expect, it } from 'vitest'
import type { Bulb, BulbEvent } from '../../../src/devices/bulb.js'
import { DeviceError, DeviceTimeoutError } from '../../../src/devices/errors.js'
import type { OutsideChangeHarness } from './outside-change-contract.js'

/** Queue settings every harness builds its bulb with: short enough for tests, long enough for a local peer. */
export const CONTRACT_QUEUE = { timeoutMs: 400, retries: 1, backoffMs: 0 }

/**
 * One adapter plus the real peer it talks to, with the faults the contract needs. Each harness is created fresh
 * per test and disposed after it.
 */
export interface BulbHarness {
  /** A started colour bulb (id `bath_bulb`) whose queue uses {@link CONTRACT_QUEUE}. */
  readonly bulb: Bulb
  /** Brightness (percent) of every command the device side received that set one, in arrival order. */
  receivedBrightness(): number[]
  /** Hue angle (degrees) of the last colour the device side received. */
  lastHue(): number
  /** The next command fails in a way worth retrying (lost frame, dropped connection, busy bridge). */
  failNext(): void
  /** The device stops answering; `false` makes it answer again. */
  hang(hung: boolean): void
  /** The device goes away (unplugged, offline, unreachable from its bridge). */
  unplug(): Promise<void>
  dispose(): Promise<void>
}

/** A harness whose device pushes its reports as they happen (an event stream), without being asked. */
export interface LiveReportsHarness extends OutsideChangeHarness {
  readonly reports: {
    /** The device's reports stop reaching genlock (`true`: stream dropped and refused), or come back (`false`). */
    cut(cut: boolean): Promise<void>
  }
}

/** What an adapter's harness offers beyond the common faults. */
export interface ContractFeatures {
  /** The device pushes its state (a {@link LiveReportsHarness}): run the tests of pushed changes too. */
  readonly reports: true
}

/** Resolves with the first state event at `brightness`. */
function stateAt(bulb: Bulb, brightness: number): Promise<BulbEvent> {
  return new Promise((resolve) => {
    const off = bulb.subscribe((event) => {
      if (event.type !== 'state' || event.state.brightness !== brightness) return
      off()
      resolve(event)
    })
  })
}

/** The behaviour every adapter must share, run once per adapter against its real protocol peer. */
export function runBulbContract(adapter: string, createHarness: () => Promise<BulbHarness>): void
export function runBulbContract(
  adapter: string,
  createHarness: () => Promise<LiveReportsHarness>,
  features: ContractFeatures,
): void
export function runBulbContract(
  adapter: string,
  createHarness: () => Promise<BulbHarness>,
  features?: ContractFeatures,
): void {
  describe(`Bulb contract: ${adapter}`, () => {
    async function withHarness(run: (harness: BulbHarness) => Promise<void>): Promise<void> {
      const harness = await createHarness()
      try {
        await run(harness)
      } finally {
        await harness.bulb.stop()
        await harness.dispose()
      }
    }

    it('delivers commands in the order they were issued, one at a time', () =>
      withHarness(async ({ bulb, receivedBrightness }) => {
        const levels = [10, 20, 30, 40, 50, 60, 70, 80]
        const results = await Promise.all(levels.map((level) => bulb.setState({ brightness: level })))
        expect(receivedBrightness()).toEqual(levels)
        expect(results.map((state) => state.brightness)).toEqual(levels)
        expect(bulb.state.brightness).toBe(80)
      }))

    it('maps colours to what the device speaks', () =>
      withHarness(async ({ bulb, lastHue }) => {
        const hueOf = async (color: string) => {
          await bulb.setColor(color)
          return lastHue()
        }
        const near = (angle: number, target: number) =>
          Math.min(Math.abs(angle - target), 360 - Math.abs(angle - target))
        expect(near(await hueOf('red'), 0)).toBeLessThan(12)
        expect(near(await hueOf('#00ff00'), 120)).toBeLessThan(12)
        expect(near(await hueOf('blue'), 240)).toBeLessThan(12)
        expect(near(await hueOf('orange'), 39)).toBeLessThan(12)
      }))

    it('retries a transient failure and the command still lands', () =>
      withHarness(async ({ bulb, receivedBrightness, failNext }) => {
        failNext()
        await expect(bulb.setState({ brightness: 42 })).resolves.toMatchObject({ brightness: 42 })
        expect(receivedBrightness().at(-1)).toBe(42)
        expect(bulb.state.reachable).toBe(true)
      }))

    it('times out a hung device with an error naming it, then recovers', () =>
      withHarness(async ({ bulb, hang }) => {
        hang(true)
        const error = await bulb.setPower(true).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(DeviceTimeoutError)
        expect((error as Error).message).toMatch(/^bath_bulb \(\w+[^)]*\) did not answer within 400 ms/)
        expect(bulb.state.reachable).toBe(false)
        hang(false)
        await expect(bulb.setState({ on: true, brightness: 33 })).resolves.toMatchObject({
          on: true,
          brightness: 33,
          reachable: true,
        })
      }))

    it('reports an unreachable device as an availability event and a named error', () =>
      withHarness(async ({ bulb, unplug }) => {
        const events: BulbEvent[] = []
        bulb.subscribe((event) => events.push(event))
        await unplug()
        const error = await bulb.setPower(true).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(DeviceError)
        expect((error as DeviceError).device).toMatch(/^bath_bulb \(/)
        expect(bulb.state.reachable).toBe(false)
        expect(events).toContainEqual(expect.objectContaining({ type: 'availability', reachable: false }))
      }))

    if (!features?.reports) return
    // The overloads give these tests a LiveReportsHarness.
    const live = (run: (harness: LiveReportsHarness) => Promise<void>) =>
      withHarness((harness) => run(harness as LiveReportsHarness))

    it('sees a change made outside genlock: the state follows and a state event says so', () =>
      live(async ({ bulb, changeFromApp }) => {
        const seen = stateAt(bulb, 37)
        await changeFromApp({ on: true, brightness: 37 })
        expect(await seen).toMatchObject({ type: 'state', state: { on: true, brightness: 37 }, outside: true })
        expect(bulb.state).toMatchObject({ on: true, brightness: 37, reachable: true })
      }))

    it('catches up on a change made while its reports were cut off, once they are back', () =>
      live(async ({ bulb, changeFromApp, reports }) => {
        await reports.cut(true)
        await changeFromApp({ on: true, brightness: 23 })
        expect(bulb.state.brightness).not.toBe(23)
        const caughtUp = stateAt(bulb, 23)
        await reports.cut(false)
        expect(await caughtUp).toMatchObject({ type: 'state', state: { on: true, brightness: 23 }, outside: true })
        expect(bulb.state).toMatchObject({ on: true, brightness: 23 })
      }))
  })
}

/**
 * Manual control of one bulb on its own (memory locks, a sim bulb, a "holder" standing in for the alarm): the hold
 * lasts `holdMs` from the last change, a higher holder preempts it and the person's state comes back, the hold's
 * time runs on under the higher holder, and a change waiting behind it is replaced by a newer one.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Bulb, BulbState } from '../../src/devices/bulb.js'
import { SimBulb } from '../../src/devices/index.js'
import { ManualControl, type ManualHoldView } from '../../src/homeassistant/index.js'
import genLock, { memoryProtocol, type LockEvent } from '../../src/lock/index.js'

const quiet = { info: () => {}, warn: () => {} }
const opened: { bulb: SimBulb; manual: ManualControl }[] = []

afterEach(async () => {
  for (const { bulb, manual } of opened.splice(0)) {
    manual.close()
    await bulb.stop()
  }
})

async function setup(holdMs: number) {
  const protocol = memoryProtocol()
  const locks = genLock({}, protocol)
  const bulb = new SimBulb({ id: 'bath_bulb' })
  await bulb.start()
  const waiters = new Set<() => void>()
  const manual = new ManualControl(locks, bulb, { priority: 100, holdMs, releaseOnOff: true }, quiet, () => {
    for (const waiter of [...waiters]) waiter()
  })
  /** Resolves once what manual control shows passes `test` (checked now and on each change). */
  const viewWhere = (test: (view: ManualHoldView) => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!test(manual.view())) return
        waiters.delete(check)
        resolve()
      }
      waiters.add(check)
      check()
    })
  opened.push({ bulb, manual })
  /** The next lock event on the bulb that `match` accepts. */
  const lockEvent = (match: (event: LockEvent) => boolean) =>
    new Promise<LockEvent>((resolve) => {
      const off = protocol.on((event) => {
        if (!match(event)) return
        off()
        resolve(event)
      })
    })
  const released = () => lockEvent((e) => e.type === 'released' && e.lockerGuid === 'manual:bath_bulb')
  const acquired = () => lockEvent((e) => e.type === 'acquired' && e.lockerGuid === 'manual:bath_bulb')
  /** A higher holder (the alarm) that sets the bulb red and keeps it until `end()`. */
  const alarm = () => {
    let end!: () => void
    const ended = new Promise<void>((resolve) => (end = resolve))
    const done = locks
      .newLocker('bath_bulb', bulb as Bulb, { priority: 200 }, 'automation:alarm')
      .promise(function* alarmTransaction(handle) {
        yield handle.setState({ on: true, brightness: 50, color: 'red' }, { holder: 'alarm' })
        yield ended
      })
    return { end: () => (end(), done) }
  }
  return { bulb, manual, viewWhere, released, acquired, alarm }
}

/** The next state the bulb reports that passes `test`. */
function stateReport(bulb: Bulb, test: (state: BulbState) => boolean): Promise<BulbState> {
  return new Promise((resolve) => {
    const off = bulb.subscribe((event) => {
      if (event.type !== 'state' || !test(event.state)) return
      off()
      resolve(event.state)
    })
  })
}

describe('ManualControl', () => {
  it('holds the bulb after the change is applied, until its time runs out; a new change starts the time again', async () => {
    const { bulb, manual, released, acquired, viewWhere } = await setup(300)
    const holding = acquired()
    const applied = bulb.nextCommand((entry) => entry.origin?.holder === 'manual')
    manual.change({ on: true, brightness: 30 }, 'homeassistant')
    await holding
    const first = manual.view().until!
    expect(first).toBeGreaterThan(Date.now())
    await applied
    // A second change before the time is up: applied under the same hold, and the time starts again.
    const second = bulb.nextCommand((entry) => entry.command.brightness === 40)
    manual.change({ on: true, brightness: 40 }, 'homeassistant')
    await second
    expect(manual.view().until!).toBeGreaterThanOrEqual(first)
    expect(manual.view().holding).toBe(true)
    await released()
    await viewWhere((view) => !view.holding)
    expect(manual.view()).toEqual({ holding: false, waitingCommand: undefined, until: undefined })
  })

  it('a higher holder preempts the hold; when it lets go the person’s state comes back', async () => {
    const { bulb, manual, acquired, alarm } = await setup(60_000)
    let holding = acquired()
    const applied = bulb.nextCommand((entry) => entry.origin?.holder === 'manual')
    manual.change({ on: true, brightness: 30, colorTemp: 3000 }, 'homeassistant')
    await holding
    await applied
    const red = bulb.nextCommand((entry) => entry.origin?.holder === 'alarm')
    const { end } = alarm()
    await red
    expect(manual.view().holding).toBe(false)
    holding = acquired()
    const back = bulb.nextCommand((entry) => entry.origin?.holder === 'manual')
    // The bulb reports the state its command left once the command's answer is in, a few ticks after the command
    // is logged: wait for that report rather than count ticks.
    const reported = stateReport(bulb, (state) => state.brightness === 30)
    await end()
    await holding
    expect((await back).command).toEqual({ on: true, brightness: 30, colorTemp: 3000 })
    expect(await reported).toMatchObject({ on: true, brightness: 30, colorTemp: 3000 })
    expect(bulb.state).toMatchObject({ on: true, brightness: 30, colorTemp: 3000 })
    manual.release('test')
  })

  it('the hold’s time runs on under a higher holder: one that ran out meanwhile brings nothing back', async () => {
    const { bulb, manual, acquired, alarm, viewWhere } = await setup(200)
    const holding = acquired()
    manual.change({ on: true, brightness: 30 }, 'homeassistant')
    await holding
    const red = bulb.nextCommand((entry) => entry.origin?.holder === 'alarm')
    const { end } = alarm()
    await red
    // The hold ends while the alarm has the bulb (the view says so), and nothing waits for the lock any more.
    await viewWhere((view) => view.until === undefined)
    expect(manual.waiting).toBe(false)
    await end()
    expect(bulb.commandLog.filter((entry) => entry.origin?.holder === 'manual')).toHaveLength(1)
    expect(bulb.state).toMatchObject({ brightness: 50 })
  })

  it('a change waiting behind a higher holder is replaced by a newer one, and only that one is applied', async () => {
    const { bulb, manual, acquired, alarm } = await setup(60_000)
    const red = bulb.nextCommand((entry) => entry.origin?.holder === 'alarm')
    const { end } = alarm()
    await red
    manual.change({ on: true, brightness: 20 }, 'homeassistant')
    manual.change({ on: true, brightness: 60 }, 'homeassistant')
    expect(manual.view().waitingCommand).toEqual({ on: true, brightness: 60 })
    const holding = acquired()
    const applied = bulb.nextCommand((entry) => entry.origin?.holder === 'manual')
    await end()
    await holding
    await applied
    expect(bulb.commandLog.filter((entry) => entry.origin?.holder === 'manual').map((e) => e.command)).toEqual([
      { on: true, brightness: 60 },
    ])
    manual.release('test')
  })
})

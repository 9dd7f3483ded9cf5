/**
 * Light commands from Home Assistant are manual transactions at `homeassistant.manual_priority` (100): they take a
 * bulb from the party (0) at once, and wait behind the alarm (200), applying the latest one when the alarm ends.
 * A real mosquitto; the test plays Home Assistant and reads the sim bulb's command log.
 */
import { describe, expect, it } from 'vitest'
import type { SimCommandLogEntry } from '../../src/devices/index.js'
import type { LockEvent } from '../../src/lock/index.js'
import { ALARM, PARTY, simBulb } from '../cli/setup-files.js'
import { haTestBed } from './support.js'

const by = (holder: string) => (entry: SimCommandLogEntry) => entry.origin?.holder === holder

describe('Home Assistant light commands under the priorities', () => {
  const bed = haTestBed(['+/device/+/light/attributes'])

  async function start() {
    const running = await bed.start({
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
      automations: { 'party.yaml': PARTY, 'alarm.yaml': ALARM },
    })
    const bulb = running.bulb('bath_bulb')
    const command = (body: object) =>
      bed.ha.publish(`${running.baseTopic}/device/bath_bulb/light/set`, JSON.stringify(body))
    /** The next lock event on the bulb that `match` accepts. */
    const lockEvent = (match: (event: LockEvent) => boolean) =>
      new Promise<LockEvent>((resolve) => {
        const off = running.daemon.locks.protocol.on((event) => {
          if (event.resource !== 'bath_bulb' || !match(event)) return
          off()
          resolve(event)
        })
      })
    return { ...running, bulb, command, lockEvent }
  }

  it('takes the bulb from the party at once', async () => {
    const { bulb, command, lockEvent } = await start()
    await bed.ha.publish('home/party', 'ON')
    await bulb.nextCommand(by('party'))
    const preempted = lockEvent((event) => event.type === 'preempted' && event.lockerGuid === 'automation:party')
    const manual = bulb.nextCommand(by('manual'))
    await command({ state: 'ON', brightness: 25, color_temp: 2700 })
    const applied = await manual
    expect(applied.state).toMatchObject({ on: true, brightness: 25, colorTemp: 2700 })
    expect((await preempted).by?.priority).toBe(100)
    // Issued under its own, newer lease: the fencing token beats every party command before it.
    const before = bulb.commandLog.slice(0, bulb.commandLog.indexOf(applied))
    const partyTokens = before.filter(by('party')).map((entry) => entry.origin?.token ?? 0)
    expect(partyTokens.length).toBeGreaterThan(0)
    expect(applied.origin?.token).toBeGreaterThan(Math.max(...partyTokens))
  })

  it('waits behind the alarm, and applies the latest command when the alarm ends', async () => {
    const { bulb, command, lockEvent, logs, baseTopic } = await start()
    await bed.ha.publish('home/alarm', 'ON')
    await bulb.nextCommand(by('alarm'))

    const waiting = lockEvent((event) => event.type === 'waiting' && event.lockerGuid === 'manual:bath_bulb')
    await command({ state: 'ON', brightness: 20 })
    expect((await waiting).priority).toBe(100)
    await command({ state: 'ON', brightness: 60, color_temp: 4000 })
    await logs.waitFor('a newer manual command replaces the one waiting for the lock')
    expect(bulb.commandLog.filter(by('manual'))).toEqual([])
    // Home Assistant sees the change is pending, and which one will be applied.
    const attributes = `${baseTopic}/device/bath_bulb/light/attributes`
    const pending = await bed.ha.waitFor(
      (m) => m.topic === attributes && JSON.parse(m.payload).manual_command?.brightness === 60,
    )
    expect(JSON.parse(pending.payload)).toMatchObject({ manual_pending: true, manual_command: { colorTemp: 4000 } })
    const settled = bed.ha.mark

    const manual = bulb.nextCommand(by('manual'))
    await bed.ha.publish('home/alarm', 'OFF')
    const applied = await manual
    expect(applied.state).toMatchObject({ on: true, brightness: 60, colorTemp: 4000 })
    const log = bulb.commandLog
    expect(log.filter(by('manual'))).toHaveLength(1)
    const lastAlarm = log.map((entry) => entry.origin?.holder).lastIndexOf('alarm')
    expect(log.indexOf(applied)).toBeGreaterThan(lastAlarm)
    await bed.ha.waitFor((m) => m.topic === attributes && JSON.parse(m.payload).manual_pending === false, settled)
    // The alarm's `restore: true` must not put back the pre-alarm state over the manual change.
    await logs.waitFor('restor')
    expect(bulb.state).toMatchObject({ on: true, brightness: 60, colorTemp: 4000 })
  })

  it('drops a waiting command when the daemon stops, and never applies it', async () => {
    const { bulb, command, lockEvent, daemon } = await start()
    await bed.ha.publish('home/alarm', 'ON')
    await bulb.nextCommand(by('alarm'))
    const waiting = lockEvent((event) => event.type === 'waiting' && event.lockerGuid === 'manual:bath_bulb')
    await command({ state: 'OFF' })
    await waiting
    const gaveUp = lockEvent((event) => event.type === 'gave-up' && event.lockerGuid === 'manual:bath_bulb')
    await daemon.stop()
    await gaveUp
    expect(bulb.commandLog.filter(by('manual'))).toEqual([])
  })
})

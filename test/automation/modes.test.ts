import { afterEach, describe, expect, it } from 'vitest'
import { harness, locksIdle, type Harness } from './support.js'

/** Sets brightness n, waits for test/go, sets n + 50: a run that lasts until the test says so. */
function door(mode: string): string {
  return `
name: door
mode: ${mode}
max: 2
devices: [bath_bulb]
trigger: { mqtt: test/door }
stop: { mqtt: test/door/stop }
steps:
  - set: { brightness: "{{ trigger.json.n }}" }
  - wait_for: { mqtt: test/go }
  - set: { brightness: "{{ trigger.json.n + 50 }}" }
`
}

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

const brightnesses = (harness: Harness) => harness.bulb().commandLog.map((entry) => entry.command.brightness)
const brightness = (harness: Harness, value: number) =>
  harness.bulb().nextCommand((entry) => entry.command.brightness === value)

/** Triggers with n; with `waits`, resolves once that run is waiting for test/go. */
async function open(harness: Harness, n: number, waits = false): Promise<void> {
  const waiting = waits ? harness.logged('waiting for a message on test/go') : undefined
  harness.bus.send('test/door', JSON.stringify({ n }))
  await waiting
}

describe('mode: what a re-trigger does while a run is going', () => {
  it('single: ignores it', async () => {
    h = await harness({ 'door.yaml': door('single') })
    await open(h, 1, true)
    await open(h, 2)
    expect(h.lines.some((line) => String(line.msg).includes('trigger ignored (mode: single)'))).toBe(true)
    const done = brightness(h, 51)
    h.bus.send('test/go', '')
    await done
    await h.status('door', 'idle')
    expect(brightnesses(h)).toEqual([1, 51])
  })

  it('restart: cancels the running one and starts over with the new trigger', async () => {
    h = await harness({ 'door.yaml': door('restart') })
    await open(h, 1, true)
    await open(h, 2, true)
    const done = brightness(h, 52)
    h.bus.send('test/go', '')
    await done
    await h.status('door', 'idle')
    expect(brightnesses(h)).toEqual([1, 2, 52])
  })

  it('queued: runs it after the current one, and drops triggers beyond max', async () => {
    h = await harness({ 'door.yaml': door('queued') })
    await open(h, 1, true)
    await open(h, 2)
    await open(h, 3) // max 2: one running + one queued
    expect(h.lines.some((line) => String(line.msg).includes('queue full (max 2)'))).toBe(true)
    const second = h.logged('waiting for a message on test/go')
    h.bus.send('test/go', '')
    await second
    const done = brightness(h, 52)
    h.bus.send('test/go', '')
    await done
    await h.status('door', 'idle')
    expect(brightnesses(h)).toEqual([1, 51, 2, 52])
  })

  it('parallel: runs both at once under the one lock, up to max', async () => {
    h = await harness({ 'door.yaml': door('parallel') })
    await open(h, 1, true)
    await open(h, 2, true)
    await open(h, 3)
    expect(h.lines.some((line) => String(line.msg).includes('(max 2); trigger dropped'))).toBe(true)
    const both = Promise.all([brightness(h, 51), brightness(h, 52)])
    h.bus.send('test/go', '')
    await both
    await h.status('door', 'idle')
    expect([...brightnesses(h)].sort()).toEqual([1, 2, 51, 52])
  })

  it('a stop for an automation that is not running is harmless', async () => {
    h = await harness({ 'door.yaml': door('single') })
    const events: string[] = []
    h.engine.on('status', (status) => events.push(status.state))
    h.bus.send('test/door/stop', '')
    h.bus.publish('genlock/automation/door/set', 'OFF')
    expect(h.engine.status()).toEqual([{ name: 'door', state: 'idle' }])
    expect(h.bulb().commandLog).toEqual([])
    await open(h, 1, true)
    expect(events).toContain('running')
  })

  it('a stop and a trigger in the same tick (one network packet) end the run and start a new one', async () => {
    h = await harness({ 'door.yaml': door('single') })
    await open(h, 1, true)
    const second = h.logged('waiting for a message on test/go')
    h.bus.send('test/door/stop', '')
    h.bus.send('test/door', JSON.stringify({ n: 2 }))
    await second
    expect(h.lines.some((line) => String(line.msg).includes('trigger ignored'))).toBe(false)
    const done = brightness(h, 52)
    h.bus.send('test/go', '')
    await done
    await h.status('door', 'idle')
    expect(brightnesses(h)).toEqual([1, 2, 52])
  })

  it('a stop ends the running one and empties the queue', async () => {
    h = await harness({ 'door.yaml': door('queued') })
    await open(h, 1, true)
    await open(h, 2)
    h.bus.send('test/door/stop', '')
    await h.status('door', 'idle')
    await locksIdle(h.protocol)
    h.bus.send('test/go', '')
    expect(brightnesses(h)).toEqual([1])
  })

  it('answers ON and OFF on its command topic', async () => {
    h = await harness({ 'door.yaml': door('single') })
    const first = brightness(h, 7)
    h.bus.send('genlock/automation/door/set', 'ON')
    // Started by command, the run has the command message as its trigger: no json, so the template fails.
    await h.status('door', 'idle')
    expect(h.engine.status()[0]?.lastError).toMatch(/steps\.0 \(set\): brightness: expected a number/)
    h.bus.send('genlock/automation/door/set', 'dance')
    h.bus.send('genlock/automation/door/set', 'ON', true)
    h.bus.send('genlock/automation/nobody/set', 'ON')
    expect(h.lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining([
        'command must be ON or OFF; dropped "dance"',
        "command for unknown automation 'nobody' dropped",
        'retained command ignored (publish commands without retain)',
      ]),
    )
    await open(h, 7, true)
    await first
    const running = h.status('door', 'running')
    await running
    h.bus.send('genlock/automation/door/set', 'off')
    await h.status('door', 'idle')
    expect(brightnesses(h)).toEqual([7])
  })
})

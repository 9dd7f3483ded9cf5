import { afterEach, describe, expect, it } from 'vitest'
import { harness, locksIdle, type Harness } from './support.js'

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

const commands = (harness: Harness) => harness.bulb().commandLog.map((entry) => entry.command)

/** `low` sets 10, waits for test/go, sets 20; `high` takes the bulb until told to stop. */
function lowAndHigh(onPreempt: string): Record<string, string> {
  return {
    'low.yaml': `
name: low
devices: [bath_bulb]
trigger: { mqtt: test/low }
on_preempt: ${onPreempt}
steps:
  - set: { brightness: 10 }
  - wait_for: { mqtt: test/go }
  - set: { brightness: 20 }
`,
    'high.yaml': `
name: high
priority: 100
devices: [bath_bulb]
trigger: { mqtt: test/high, payload: "ON" }
stop: { mqtt: test/high, payload: "OFF" }
steps:
  - set: { brightness: 99 }
  - wait_for: { mqtt: test/never }
`,
    'fallback.yaml': `
name: fallback
devices: [bath_bulb]
steps:
  - set: { color: purple }
`,
  }
}

async function preemptLow(harness: Harness): Promise<void> {
  const waiting = harness.logged('waiting for a message on test/go')
  harness.bus.send('test/low', '')
  await waiting
  const high = harness.bulb().nextCommand((entry) => entry.origin?.holder === 'high')
  harness.bus.send('test/high', 'ON')
  await high
  await harness.status('low', 'suspended')
}

describe('on_preempt', () => {
  it('resume: puts its look back, then continues where it was (an interrupted wait_for waits again)', async () => {
    h = await harness(lowAndHigh('resume'))
    await preemptLow(h)
    const waitingAgain = h.logged('waiting for a message on test/go')
    h.bus.send('test/high', 'OFF')
    await waitingAgain
    h.bus.send('test/go', '')
    await h.status('low', 'idle')
    // Its look (brightness 10, not the high one's 99) first, under its own name, then the next step.
    expect(commands(h)).toEqual([
      { brightness: 10 },
      { brightness: 99 },
      { on: true, brightness: 10, colorTemp: 2700 },
      { brightness: 20 },
    ])
    expect(h.bulb().commandLog[2]!.origin?.holder).toBe('low')
  })

  it('resume: the message a wait_for waits for, come while it was suspended, ends the wait once the lock is back', async () => {
    h = await harness(lowAndHigh('resume'))
    await preemptLow(h)
    h.bus.send('test/go', 'while suspended')
    const last = h.bulb().nextCommand((entry) => entry.origin?.holder === 'low' && entry.command.on === undefined)
    h.bus.send('test/high', 'OFF')
    expect((await last).command).toEqual({ brightness: 20 })
    await h.status('low', 'idle')
    expect(commands(h)).toEqual([
      { brightness: 10 },
      { brightness: 99 },
      { on: true, brightness: 10, colorTemp: 2700 },
      { brightness: 20 },
    ])
    // It did not wait again: one 'waiting' line, before the preemption.
    expect(h.lines.filter((line) => line.msg === 'waiting for a message on test/go')).toHaveLength(1)
  })

  it('resume: a wait_for waiting again holds the bulb, and the automation is running', async () => {
    h = await harness(lowAndHigh('resume'))
    await preemptLow(h)
    expect(h.engine.holderOf('bath_bulb')).toBe('high')
    const waitingAgain = h.logged('waiting for a message on test/go')
    h.bus.send('test/high', 'OFF')
    await waitingAgain
    await h.status('low', 'running')
    expect(h.engine.holderOf('bath_bulb')).toBe('low')
  })

  it('restart: runs the steps again from the first', async () => {
    h = await harness(lowAndHigh('restart'))
    await preemptLow(h)
    const again = h.bulb().nextCommand((entry) => entry.origin?.holder === 'low')
    h.bus.send('test/high', 'OFF')
    expect((await again).command).toEqual({ brightness: 10 })
  })

  it('abort: gives up at once, without an error', async () => {
    h = await harness(lowAndHigh('abort'))
    const waiting = h.logged('waiting for a message on test/go')
    h.bus.send('test/low', '')
    await waiting
    h.bus.send('test/high', 'ON')
    await h.status('low', 'idle')
    expect(h.engine.status().find((s) => s.name === 'low')).toEqual({ name: 'low', state: 'idle' })
    h.bus.send('test/high', 'OFF')
    await locksIdle(h.protocol)
    expect(commands(h)).toEqual([{ brightness: 10 }, { brightness: 99 }])
  })

  it('replace: runs the named automation’s steps on this one’s devices once the lock is back', async () => {
    h = await harness(lowAndHigh('{ replace: fallback }'))
    await preemptLow(h)
    h.bus.send('test/high', 'OFF')
    await h.status('low', 'idle')
    expect(commands(h)).toEqual([{ brightness: 10 }, { brightness: 99 }, { color: 'purple' }])
    expect(h.bulb().commandLog.at(-1)?.origin?.holder).toBe('low')
  })
})

describe('failures', () => {
  const steps = `
devices: [bath_bulb]
trigger: { mqtt: test/go }
steps:
  - set: { brightness: 10 }
  - set: { brightness: 20 }
`

  it('an unreachable bulb fails the step and ends the run (on_error: abort); the engine keeps going', async () => {
    h = await harness({ 'steady.yaml': `name: steady\n${steps}` })
    h.bulb().setReachable(false)
    h.bus.send('test/go', '')
    await h.status('steady', 'idle')
    expect(h.engine.status()[0]?.lastError).toMatch(/^steps\.0 \(set\): .*bath_bulb.*unreachable/)
    await locksIdle(h.protocol)
    h.bulb().setReachable(true)
    h.bus.send('test/go', '')
    await h.bulb().waitForCommands(2)
    await h.status('steady', 'idle')
    expect(commands(h)).toEqual([{ brightness: 10 }, { brightness: 20 }])
    expect(h.engine.status()).toEqual([{ name: 'steady', state: 'idle' }])
  })

  it('a queued run’s failure is reported before the next queued run starts', async () => {
    h = await harness({ 'steady.yaml': `name: steady\nmode: queued\n${steps}` })
    const errors: (string | undefined)[] = []
    h.engine.on('status', (status) => errors.push(status.lastError))
    h.bulb().setReachable(false)
    h.bus.send('test/go', '')
    h.bus.send('test/go', '')
    await h.status('steady', 'idle')
    expect(errors.filter((error) => error !== undefined)).toHaveLength(2)
  })

  it('on_error: continue logs the failed step and goes on', async () => {
    h = await harness({ 'steady.yaml': `name: steady\non_error: continue\n${steps}` })
    h.bulb().setReachable(false)
    h.bus.send('test/go', '')
    await h.status('steady', 'idle')
    const failed = h.lines.filter((line) => String(line.msg).startsWith('step failed, going on'))
    expect(failed.map((line) => line.step)).toEqual(['steps.0 (set)', 'steps.1 (set)'])
    expect(h.engine.status()).toEqual([{ name: 'steady', state: 'idle' }])
  })

  it('a lock not granted within acquire_timeout fails the run with that reason', async () => {
    h = await harness({
      ...lowAndHigh('resume'),
      'meek.yaml': `name: meek\nlock: { acquire_timeout: 20ms }\n${steps}`,
    })
    const high = h.bulb().nextCommand((entry) => entry.origin?.holder === 'high')
    h.bus.send('test/high', 'ON')
    await high
    h.bus.send('test/go', '')
    await h.status('meek', 'waiting')
    await h.status('meek', 'idle')
    expect(h.engine.status().find((s) => s.name === 'meek')?.lastError).toMatch(/not granted within 20 ms/)
  })

  it('a lock ttl that runs out counts as a preemption: on_preempt decides', async () => {
    h = await harness({
      'brief.yaml': `
name: brief
devices: [bath_bulb]
lock: { ttl: 20ms }
on_preempt: abort
trigger: { mqtt: test/brief }
steps:
  - set: { brightness: 10 }
  - wait_for: { mqtt: test/never }
`,
    })
    h.bus.send('test/brief', '')
    await h.status('brief', 'running')
    await h.status('brief', 'idle')
    expect(h.lines.some((line) => line.code === 'EXPIRED')).toBe(true)
  })
})

import { afterEach, describe, expect, it, vi } from 'vitest'
import type { RunEvent } from '../../src/automation/run-events.js'
import { RunEvents } from '../../src/automation/run-events.js'
import { harness, type Harness } from './support.js'

let h: Harness | undefined
afterEach(async () => {
  vi.restoreAllMocks()
  await h?.close()
  h = undefined
})

/** Every run event of the engine, and a way to wait for the end of a run of `automation`. */
function record(harness: Harness) {
  const events: RunEvent[] = []
  const waiters: { automation: string; resolve: () => void }[] = []
  harness.engine.on('run', (event) => {
    events.push(event)
    if (event.type !== 'ended') return
    for (const waiter of waiters.filter((w) => w.automation === event.automation)) {
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
  })
  const ended = (automation: string) => new Promise<void>((resolve) => waiters.push({ automation, resolve }))
  /** The events of `automation` without the stamp, for comparing shapes. */
  const of = (automation: string) =>
    events
      .filter((event) => event.automation === automation)
      .map(({ automation: _name, run: _run, at: _at, ...body }) => body)
  return { events, ended, of }
}

const dimmer = `
name: dimmer
devices: [bath_bulb]
trigger: { mqtt: home/dim }
steps:
  - set: { brightness: "{{ trigger.json.level }}" }
  - if: "trigger.json.level > 50"
    then: [{ log: bright }]
`

describe('run events', () => {
  it('tell what started a run, each step and command, and how it ended, under one run id', async () => {
    h = await harness({ 'dimmer.yaml': dimmer })
    const runs = record(h)
    const done = runs.ended('dimmer')
    const before = Date.now()
    h.bus.send('home/dim', '{"level":70}')
    await done
    expect(runs.of('dimmer')).toEqual([
      { type: 'triggered', via: { kind: 'mqtt', topic: 'home/dim', payload: '{"level":70}' } },
      { type: 'running' },
      { type: 'step', path: 'steps.0', kind: 'set', phase: 'start' },
      {
        type: 'command',
        device: 'bath_bulb',
        command: { brightness: 70 },
        ok: true,
        state: expect.objectContaining({ brightness: 70 }),
        ms: expect.any(Number),
      },
      { type: 'step', path: 'steps.0', kind: 'set', phase: 'end' },
      { type: 'step', path: 'steps.1', kind: 'if', phase: 'start' },
      { type: 'step', path: 'steps.1.then.0', kind: 'log', phase: 'start' },
      { type: 'step', path: 'steps.1.then.0', kind: 'log', phase: 'end' },
      { type: 'step', path: 'steps.1', kind: 'if', phase: 'end' },
      { type: 'ended', outcome: 'completed' },
    ])
    const ids = new Set(runs.events.map((event) => event.run))
    expect(ids.size).toBe(1)
    expect(runs.events.every((event) => event.at >= before && event.at <= Date.now())).toBe(true)

    await h.status('dimmer', 'idle')
    const again = runs.ended('dimmer')
    h.bus.send('genlock/automation/dimmer/set', 'ON')
    await again
    const second = runs.events.filter((event) => !ids.has(event.run))
    expect(second[0]).toMatchObject({ type: 'triggered', via: { kind: 'command' } })
    // The command message has no json: the template fails the step, and the run with it.
    expect(second.at(-1)).toMatchObject({
      type: 'ended',
      outcome: 'failed',
      error: expect.stringMatching(/^steps\.0 \(set\)/),
    })
    expect(second.find((event) => event.type === 'step' && event.phase === 'end')).toMatchObject({
      path: 'steps.0',
      error: expect.stringMatching(/brightness/),
    })
  })

  it('report a failed command, and a step that failed under on_error: continue', async () => {
    h = await harness({
      'steady.yaml': `
name: steady
devices: [bath_bulb]
on_error: continue
trigger: { mqtt: home/go }
steps:
  - set: { on: true }
`,
    })
    const runs = record(h)
    h.bulb().setReachable(false)
    const done = runs.ended('steady')
    h.bus.send('home/go', '')
    await done
    const events = runs.of('steady')
    expect(events.find((event) => event.type === 'command')).toMatchObject({
      device: 'bath_bulb',
      command: { on: true },
      ok: false,
      error: expect.stringMatching(/unreachable/),
    })
    expect(events.find((event) => event.type === 'step' && event.phase === 'end')).toMatchObject({
      error: expect.stringMatching(/unreachable/),
    })
    expect(events.at(-1)).toEqual({ type: 'ended', outcome: 'completed' })
  })

  it('tell where a run lost its lock, what on_preempt did, and when it ran again', async () => {
    h = await harness({
      'low.yaml': `
name: low
devices: [bath_bulb]
trigger: { mqtt: test/low }
on_preempt: { replace: fallback }
steps:
  - set: { brightness: 10 }
  - wait_for: { mqtt: test/go }
`,
      'high.yaml': `
name: high
priority: 100
devices: [bath_bulb]
trigger: { mqtt: test/high }
steps:
  - set: { brightness: 99 }
`,
      'fallback.yaml': `
name: fallback
devices: [bath_bulb]
steps:
  - set: { color: purple }
`,
    })
    const runs = record(h)
    const waiting = h.logged('waiting for a message on test/go')
    h.bus.send('test/low', '')
    await waiting
    const done = runs.ended('low')
    h.bus.send('test/high', '')
    await done
    const events = runs.of('low')
    const lost = events.findIndex((event) => event.type === 'lock-lost')
    expect(events.slice(lost)).toEqual([
      { type: 'lock-lost', code: 'PREEMPTED', step: 'steps.1' },
      { type: 'recovered', action: 'replace', with: 'fallback' },
      { type: 'running' },
      { type: 'step', path: 'steps.0', kind: 'set', phase: 'start' },
      expect.objectContaining({ type: 'command', command: { color: 'purple' }, ok: true }),
      { type: 'step', path: 'steps.0', kind: 'set', phase: 'end' },
      { type: 'ended', outcome: 'completed' },
    ])
    expect(events.filter((event) => event.type === 'running')).toHaveLength(2)
  })

  it('are not even built while nobody listens, and a listener that throws is logged and changes nothing', async () => {
    h = await harness({ 'dimmer.yaml': dimmer })
    const emit = vi.spyOn(RunEvents.prototype, 'emit')
    let command = h.bulb().nextCommand()
    h.bus.send('home/dim', '{"level":70}')
    await command
    await h.status('dimmer', 'idle')
    expect(emit).not.toHaveBeenCalled()

    const off = h.engine.on('run', () => {
      throw new Error('listener bug')
    })
    command = h.bulb().nextCommand()
    h.bus.send('home/dim', '{"level":30}')
    expect((await command).command).toEqual({ brightness: 30 })
    await h.status('dimmer', 'idle')
    expect(emit).toHaveBeenCalled()
    expect(h.lines.filter((line) => line.msg === 'a run event listener failed').length).toBeGreaterThan(0)
    off()
    emit.mockClear()
    command = h.bulb().nextCommand()
    h.bus.send('home/dim', '{"level":40}')
    await command
    await h.status('dimmer', 'idle')
    expect(emit).not.toHaveBeenCalled()
  })
})

import { describe, expect, it } from 'vitest'
import type { RunEvent } from '../../src/automation/index.js'
import { LockBoard } from '../../src/daemon/extensions/dashboard/lock-board.js'
import { Timeline, type TimelineRun } from '../../src/daemon/extensions/dashboard/timeline.js'
import type { LockEvent } from '../../src/lock/index.js'

const party = (run: number, at: number, body: Record<string, unknown>) =>
  ({ automation: 'party', run, at, ...body }) as RunEvent
const preemptedByAlarm: LockEvent = {
  type: 'preempted',
  resource: 'bath_bulb',
  lockerGuid: 'automation:party',
  priority: 0,
  token: 1,
  by: { lockerGuid: 'automation:alarm', priority: 200 },
}

describe('the timeline, from run and lock events', () => {
  it('shows a preemption, who did it, and the resume', () => {
    const changed: TimelineRun[] = []
    const timeline = new Timeline((run) => changed.push(run))
    timeline.run(party(1, 0, { type: 'triggered', via: { kind: 'command' } }))
    timeline.run(party(1, 5, { type: 'running' }))
    timeline.lock(preemptedByAlarm, 100)
    timeline.run(party(1, 100, { type: 'lock-lost', code: 'PREEMPTED', step: 'steps.0' }))
    timeline.run(party(1, 100, { type: 'recovered', action: 'resume' }))
    timeline.run(party(1, 300, { type: 'running' }))
    timeline.run(party(1, 400, { type: 'ended', outcome: 'stopped' }))
    const [row] = timeline.runs
    expect(row).toMatchObject({ id: 'run-1', name: 'party', kind: 'automation', start: 0, end: 400 })
    expect(row!.segments).toEqual([
      { state: 'waiting', from: 0, to: 5 },
      { state: 'running', from: 5, to: 100 },
      { state: 'suspended', from: 100, to: 300 },
      { state: 'running', from: 300, to: 400 },
    ])
    expect(row!.notes.map((note) => note.text)).toEqual(['preempted by alarm (200)', 'resumed', 'stopped'])
    expect(changed.length).toBeGreaterThanOrEqual(6)
  })

  it('tells a restart from a resume, and names a replacement', () => {
    const timeline = new Timeline()
    timeline.run(party(2, 0, { type: 'triggered', via: { kind: 'command' } }))
    timeline.run(party(2, 0, { type: 'running' }))
    timeline.run(party(2, 10, { type: 'lock-lost', code: 'PREEMPTED', step: 'steps.0' }))
    timeline.run(party(2, 10, { type: 'recovered', action: 'restart' }))
    timeline.run(party(2, 20, { type: 'running' }))
    timeline.run(party(3, 30, { type: 'triggered', via: { kind: 'command' } }))
    timeline.run(party(3, 30, { type: 'running' }))
    timeline.run(party(3, 40, { type: 'lock-lost', code: 'PREEMPTED', step: 'steps.0' }))
    timeline.run(party(3, 40, { type: 'recovered', action: 'replace', with: 'calm' }))
    const [restarted, replaced] = timeline.runs
    expect(restarted!.notes.map((note) => note.text)).toEqual(['lost its lock (PREEMPTED)', 'restarted'])
    expect(replaced!.notes.map((note) => note.text)).toEqual(['lost its lock (PREEMPTED)', 'replaced by calm'])
  })

  it('gives a manual hold a row of its own, preempted and resumed like a run', () => {
    const timeline = new Timeline()
    const manual = { resource: 'bath_bulb', lockerGuid: 'manual:bath_bulb', priority: 100 }
    timeline.lock({ ...manual, type: 'acquired', token: 5 }, 0)
    timeline.lock({ ...manual, type: 'preempted', token: 5, by: { lockerGuid: 'automation:alarm', priority: 200 } }, 10)
    timeline.lock({ ...manual, type: 'acquired', token: 7 }, 20)
    timeline.lock({ ...manual, type: 'released', token: 7 }, 30)
    const [row] = timeline.runs
    expect(row).toMatchObject({ name: 'manual on bath_bulb', kind: 'hold', start: 0, end: 30, outcome: 'released' })
    expect(row!.notes.map((note) => note.text)).toEqual(['preempted by alarm (200)', 'resumed', 'released'])
  })

  it('keeps the most recent rows only', () => {
    const timeline = new Timeline(() => {}, 3)
    for (let run = 1; run <= 5; run++) timeline.run(party(run, run, { type: 'triggered', via: { kind: 'command' } }))
    expect(timeline.runs.map((row) => row.id)).toEqual(['run-3', 'run-4', 'run-5'])
  })
})

describe('the lock board: holders and waiters with their priorities', () => {
  it('lists waiters highest priority first, and forgets them once served or given up', () => {
    const board = new LockBoard()
    const event = (type: LockEvent['type'], lockerGuid: string, priority: number, token?: number): LockEvent => ({
      type,
      resource: 'bath_bulb',
      lockerGuid,
      priority,
      ...(token !== undefined && { token }),
    })
    board.apply(event('acquired', 'automation:alarm', 200, 1))
    board.apply(event('waiting', 'automation:party', 0))
    board.apply(event('waiting', 'manual:bath_bulb', 100))
    expect(board.holder('bath_bulb', 'alarm')).toEqual({ name: 'alarm', priority: 200 })
    expect(board.waiting('bath_bulb')).toEqual([
      { name: 'manual', priority: 100 },
      { name: 'party', priority: 0 },
    ])
    board.apply(event('acquired', 'manual:bath_bulb', 100, 2))
    board.apply(event('gave-up', 'automation:party', 0))
    expect(board.waiting('bath_bulb')).toEqual([])
    expect(board.holder('bath_bulb', 'manual')).toEqual({ name: 'manual', priority: 100 })
    expect(board.holder('bath_bulb', undefined)).toBeNull()
  })
})

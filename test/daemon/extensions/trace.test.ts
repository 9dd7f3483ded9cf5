import { describe, expect, it } from 'vitest'
import type { RunEvent } from '../../../src/automation/index.js'
import { append, MAX_ENTRIES, TraceRecorder, type RunTrace } from '../../../src/daemon/extensions/traces/trace.js'
import { stepName } from '../../../src/daemon/extensions/traces/timeline.js'
import { readTraceRecord } from '../../../src/daemon/extensions/traces/trace-file.js'

const trace = (): RunTrace => ({ automation: 'party', number: 1, started: 0, result: 'running', entries: [] })

describe('a run trace', () => {
  it('keeps its first entries and its last ones, and counts what it left out of the middle', () => {
    const run = trace()
    for (let at = 0; at < MAX_ENTRIES + 50; at++) append(run, { at, type: 'running' })
    expect(run.entries).toHaveLength(MAX_ENTRIES)
    expect(run.entries[0]!.at).toBe(0)
    expect(run.entries.at(-1)!.at).toBe(MAX_ENTRIES + 49)
    const omitted = run.entries.find((entry) => entry.type === 'omitted')
    expect(omitted).toMatchObject({ count: 51 })
    // Every entry is either kept or counted.
    expect(run.entries.length - 1 + 51).toBe(MAX_ENTRIES + 50)
  })

  it('names steps as people count them', () => {
    expect(stepName('steps.2')).toBe('step 3')
    expect(stepName('steps.0.repeat.steps.1')).toBe('step 1 › repeat 2')
    expect(stepName('steps.1.parallel.0.steps.2')).toBe('step 2 › parallel 1 3')
  })

  it('refuses a trace file that is not one (the state file then sets it aside)', () => {
    expect(() => readTraceRecord({ next: 0, runs: [] })).toThrow(/next/)
    expect(() => readTraceRecord({ next: 2, runs: [{ automation: 'party' }] })).toThrow(/runs.0/)
    expect(readTraceRecord({ next: 2, runs: [trace()] }).runs).toHaveLength(1)
  })
})

describe('the trace recorder', () => {
  const run = (body: Record<string, unknown>, at = 1): RunEvent =>
    ({ automation: 'party', run: 7, at, ...body }) as unknown as RunEvent
  const lock = (type: string, extra: Record<string, unknown> = {}) =>
    ({ type, resource: 'bath_bulb', lockerGuid: 'automation:party', priority: 0, token: 1, ...extra }) as never

  function recorder() {
    const traces: RunTrace[] = []
    let next = 1
    const recording = new TraceRecorder(
      () => next++,
      (trace) => (traces.includes(trace) ? undefined : traces.push(trace)),
    )
    return { recording, traces }
  }

  it('takes who preempted the run from the lock event, whether it comes before or after the run says so', () => {
    for (const lockFirst of [true, false]) {
      const { recording, traces } = recorder()
      recording.onRun(run({ type: 'triggered', via: { kind: 'command' } }))
      recording.onLock(lock('acquired'))
      recording.onRun(run({ type: 'running' }, 2))
      const preempted = lock('preempted', { by: { lockerGuid: 'automation:alarm', priority: 200 } })
      const lost = run({ type: 'lock-lost', code: 'PREEMPTED', step: 'steps.0' }, 3)
      if (lockFirst) {
        recording.onLock(preempted)
        recording.onRun(lost)
      } else {
        recording.onRun(lost)
        recording.onLock(preempted)
      }
      const trace = traces[0]!
      expect(trace.preemptedBy).toEqual({ holder: 'alarm', priority: 200 })
      expect(trace.entries.at(-1)).toMatchObject({ type: 'preempted', by: { holder: 'alarm', priority: 200 } })
      expect(trace.result).toBe('suspended')
    }
  })

  it('numbers runs per automation and ends them with their outcome and error', () => {
    const { recording, traces } = recorder()
    recording.onRun(run({ type: 'triggered', via: { kind: 'command' } }))
    recording.onRun(run({ type: 'step', path: 'steps.0', kind: 'set', phase: 'end', error: 'bath_bulb unreachable' }))
    recording.onRun(run({ type: 'ended', outcome: 'failed', error: 'bath_bulb unreachable' }, 5))
    expect(traces[0]).toMatchObject({ number: 1, result: 'failed', ended: 5, error: 'bath_bulb unreachable' })
    expect(recording.running).toEqual([])
    // Events of a run that started before anyone listened are ignored.
    recording.onRun({ ...run({ type: 'running' }), run: 99 } as RunEvent)
    expect(traces).toHaveLength(1)
  })
})

import { describe, expect, it } from 'vitest'
import { append, MAX_ENTRIES, type RunTrace } from '../../../src/daemon/extensions/traces/trace.js'
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

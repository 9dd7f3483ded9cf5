/**
 * The run journal (data_dir/runs.json) writes what a crash would need at once — a restore snapshot, and the end of
 * a run that had one — and lets a run without a snapshot wait up to a second, coalesced, so a trigger's run is not
 * two fsynced writes. A clean stop (`flushed`) writes what waits.
 */
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { RunJournal, type RunJournalRecord, type RunJournalStore } from '../../src/automation/run-journal.js'

/** A store in memory that keeps every record written. */
function memoryStore(): RunJournalStore & { writes: RunJournalRecord[] } {
  const writes: RunJournalRecord[] = []
  return {
    writes,
    read: () => Promise.resolve(undefined),
    write: (record) => {
      writes.push(record)
      return Promise.resolve()
    },
  }
}

const state = { on: true, brightness: 40, reachable: true }
let store: ReturnType<typeof memoryStore>
let journal: RunJournal

beforeEach(() => {
  vi.useFakeTimers()
  store = memoryStore()
  journal = new RunJournal(store, pino({ level: 'silent' }))
})
afterEach(() => {
  vi.useRealTimers()
})

describe('RunJournal', () => {
  it('writes runs without a snapshot once, within a second, however many started and ended', async () => {
    for (let i = 0; i < 50; i++) {
      journal.started('ping')
      journal.ended('ping')
    }
    journal.started('party')
    await vi.advanceTimersByTimeAsync(999)
    expect(store.writes).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    await journal.flushed()
    expect(store.writes).toEqual([{ version: 1, automations: { party: { devices: {} } } }])
  })

  it('writes a snapshot, and the end of the run that had it, at once', async () => {
    journal.started('alarm')
    journal.snapshot('alarm', 'bath', state)
    await vi.advanceTimersByTimeAsync(0)
    expect(store.writes.at(-1)).toEqual({ version: 1, automations: { alarm: { devices: { bath: state } } } })
    journal.ended('alarm')
    await vi.advanceTimersByTimeAsync(0)
    expect(store.writes.at(-1)).toEqual({ version: 1, automations: {} })
  })

  it('writes what waits when flushed (a clean stop)', async () => {
    journal.started('party')
    await journal.flushed()
    expect(store.writes).toEqual([{ version: 1, automations: { party: { devices: {} } } }])
  })
})

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RunTrace } from './trace.js'

/** Runs kept per automation, the newest last. */
export const RUNS_KEPT = 20

/** What one automation's trace file holds. */
export interface TraceRecord {
  /** The number its next run gets. */
  readonly next: number
  /** Its last {@link RUNS_KEPT} runs, oldest first. */
  readonly runs: RunTrace[]
}

/** The folder under `data_dir` that holds one trace file per automation. */
export function tracesDir(dataDir: string): string {
  return join(dataDir, 'traces')
}

/** `<data_dir>/traces/<automation>.json` (automation names are letters, digits, `_` and `-` only). */
export function traceFile(dataDir: string, automation: string): string {
  return join(tracesDir(dataDir), `${automation}.json`)
}

/** Checks a parsed trace file; throws saying what is wrong (the StateFile then sets the file aside). */
export function readTraceRecord(value: unknown): TraceRecord {
  const record = value as Partial<TraceRecord> | null
  if (typeof record !== 'object' || record === null) throw new Error('not an object')
  if (typeof record.next !== 'number' || !Number.isInteger(record.next) || record.next < 1)
    throw new Error('`next` is not a run number')
  if (!Array.isArray(record.runs)) throw new Error('`runs` is not a list')
  for (const [i, run] of record.runs.entries()) {
    const trace = run as Partial<RunTrace> | null
    if (
      typeof trace !== 'object' ||
      trace === null ||
      typeof trace.automation !== 'string' ||
      typeof trace.number !== 'number' ||
      typeof trace.started !== 'number' ||
      typeof trace.result !== 'string' ||
      !Array.isArray(trace.entries)
    )
      throw new Error(`runs.${i} is not a run trace`)
  }
  return { next: record.next, runs: record.runs.slice(-RUNS_KEPT) }
}

/**
 * Reads an automation's trace file without changing anything (the CLI, beside a running daemon that owns the
 * file). Undefined when there is none yet; throws with the file's name when it cannot be read.
 */
export function loadTraceRecord(dataDir: string, automation: string): TraceRecord | undefined {
  const file = traceFile(dataDir, automation)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new Error(`cannot read ${file}: ${(error as Error).message}`, { cause: error })
  }
  try {
    return readTraceRecord(JSON.parse(text))
  } catch (error) {
    throw new Error(`${file} is not a trace file: ${(error as Error).message}`, { cause: error })
  }
}

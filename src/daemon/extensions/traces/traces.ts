import { readdir } from 'node:fs/promises'
import { StateFile } from '../../../store/index.js'
import type { DaemonContext, Extension } from '../../extension.js'
import { readTraceRecord, RUNS_KEPT, traceFile, tracesDir, type TraceRecord } from './trace-file.js'
import { summaryOf, TraceRecorder, type RunTrace } from './trace.js'

/**
 * How long a changed trace file waits before it is written: runs that end together cost one write, and a crash
 * loses at most this much. The CLI reads the file, so it is this far behind a running daemon at most.
 */
const WRITE_DELAY_MS = 1000

/** How long a changed run summary waits before it is published (see summaryChanged). */
const SUMMARY_DELAY_MS = 50

/** A trace file is at most this big: 20 runs of at most 120 entries each fit with room to spare. */
const MAX_FILE_BYTES = 2 * 1024 * 1024

interface Kept {
  readonly file: StateFile<TraceRecord>
  next: number
  runs: RunTrace[]
  timer?: NodeJS.Timeout | undefined
}

/**
 * Records every run as a trace (what triggered it, each step, each command with the bulb's answer and latency,
 * lock waits with who held the bulb, preemptions with who took it at which priority and at which step, what
 * `on_preempt` did, errors) and keeps the last 20 per automation in `<data_dir>/traces/<name>.json` (atomic
 * StateFile writes, so a crash never leaves one unreadable). The last run's summary is retained on
 * `<base>/automation/<name>/trace`, where Home Assistant's run-state sensor reads its attributes. `genlock trace`
 * prints the files as timelines.
 */
export class Traces implements Extension {
  readonly name = 'traces'
  private context!: DaemonContext
  private readonly kept = new Map<string, Kept>()
  /** The summary last published per automation. */
  private readonly published = new Map<string, string>()
  private recorder!: TraceRecorder
  private stopped = false
  /** Automations whose summary changed since it was last published. */
  private readonly summariesDue = new Set<string>()
  private summaryTimer: NodeJS.Timeout | undefined

  async start(context: DaemonContext): Promise<void> {
    this.context = context
    await this.load()
    this.recorder = new TraceRecorder(
      (automation) => this.keptFor(automation).next++,
      (trace) => this.changed(trace),
    )
    const { events } = context
    events.on(this, 'run', (event) => this.recorder.onRun(event))
    events.on(this, 'lock', (event) => this.recorder.onLock(event))
    events.on(this, 'republishRequested', () => this.republish())
    events.on(this, 'reloaded', () => this.clearRemoved())
    this.republish()
  }

  /** Writes every trace file with unsaved changes. */
  async stop(): Promise<void> {
    this.publishDueSummaries()
    this.stopped = true
    await Promise.all([...this.kept.keys()].map((automation) => this.save(automation)))
  }

  /** The kept runs of `automation`, oldest first (for tests and the dashboard). */
  runs(automation: string): readonly RunTrace[] {
    return this.kept.get(automation)?.runs ?? []
  }

  private async load(): Promise<void> {
    const dir = tracesDir(this.context.dataDir)
    const names = await readdir(dir).catch(() => [] as string[])
    for (const name of names) {
      if (!name.endsWith('.json')) continue
      const automation = name.slice(0, -'.json'.length)
      const kept = this.keptFor(automation)
      const record = await kept.file.read()
      if (!record) continue
      kept.next = record.next
      kept.runs = record.runs
    }
  }

  private keptFor(automation: string): Kept {
    let kept = this.kept.get(automation)
    if (!kept) {
      const file = new StateFile({
        path: traceFile(this.context.dataDir, automation),
        maxBytes: MAX_FILE_BYTES,
        validate: readTraceRecord,
        logger: this.context.logger.child({ component: 'traces' }),
        // Diagnostics: a trace lost to a power cut is not worth two disk flushes per write on an SD card.
        durable: false,
      })
      kept = { file, next: 1, runs: [] }
      this.kept.set(automation, kept)
    }
    return kept
  }

  private changed(trace: RunTrace): void {
    const kept = this.keptFor(trace.automation)
    if (!kept.runs.includes(trace)) {
      kept.runs.push(trace)
      if (kept.runs.length > RUNS_KEPT) kept.runs.splice(0, kept.runs.length - RUNS_KEPT)
    }
    this.summaryChanged(trace.automation)
    kept.timer ??= setTimeout(() => void this.save(trace.automation), WRITE_DELAY_MS).unref()
  }

  private async save(automation: string): Promise<void> {
    const kept = this.kept.get(automation)
    if (!kept?.timer) return
    clearTimeout(kept.timer)
    kept.timer = undefined
    try {
      await kept.file.write({ next: kept.next, runs: kept.runs })
    } catch (error) {
      this.context.logger.warn({ automation, err: (error as Error).message }, 'trace file not written')
    }
  }

  /**
   * A summary is published SUMMARY_DELAY_MS after its run changed, with whatever else changed meanwhile: a run that
   * starts and ends within that time (most triggered runs) publishes its result only, not `running` first, and a
   * burst of runs publishes once per interval. It stays off the trigger's path: no socket write of its own between
   * a trigger and its first command's answer.
   */
  private summaryChanged(automation: string): void {
    this.summariesDue.add(automation)
    this.summaryTimer ??= setTimeout(() => this.publishDueSummaries(), SUMMARY_DELAY_MS)
  }

  private publishDueSummaries(): void {
    clearTimeout(this.summaryTimer)
    this.summaryTimer = undefined
    const due = [...this.summariesDue]
    this.summariesDue.clear()
    for (const automation of due) this.publishSummary(automation)
  }

  private publishSummary(automation: string): void {
    const last = this.kept.get(automation)?.runs.at(-1)
    if (!last || !this.known(automation)) return
    this.publish(automation, JSON.stringify(summaryOf(last)))
  }

  private known(automation: string): boolean {
    return this.context.automations.some((definition) => definition.name === automation)
  }

  private republish(): void {
    this.published.clear()
    for (const definition of this.context.automations) this.publishSummary(definition.name)
  }

  /** A removed automation's summary is cleared (its trace file stays, for `genlock trace`). */
  private clearRemoved(): void {
    for (const automation of [...this.published.keys()]) {
      if (this.known(automation)) continue
      this.publish(automation, '')
    }
  }

  private publish(automation: string, payload: string): void {
    if (this.stopped) return
    if (this.published.get(automation) === payload) return
    if (payload === '') this.published.delete(automation)
    else this.published.set(automation, payload)
    const { bus, config, logger } = this.context
    // QoS 0 like the other state topics (see state-topics.ts), a clear at QoS 1 so it is never lost.
    bus
      .publish(`${config.mqtt.baseTopic}/automation/${automation}/trace`, payload, {
        retain: true,
        qos: payload === '' ? 1 : 0,
      })
      .catch((error: Error) => logger.warn({ automation, err: error.message }, 'trace summary publish failed'))
  }
}

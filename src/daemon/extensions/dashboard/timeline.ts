import type { RunEvent } from '../../../automation/index.js'
import type { LockEvent } from '../../../lock/index.js'
import { holderName } from '../../holders.js'

/** What a run (or a manual hold) was doing over one stretch of time. */
export interface TimelineSegment {
  readonly state: 'waiting' | 'running' | 'suspended'
  /** Epoch ms. */
  readonly from: number
  /** Epoch ms; absent while it lasts. */
  to?: number
}

/** Something worth a word on the timeline: a preemption, a resume, the end. */
export interface TimelineNote {
  readonly at: number
  readonly kind: 'preempted' | 'resumed' | 'restarted' | 'recovered' | 'ended' | 'failed'
  readonly text: string
}

/** One row of the timeline: an automation's run, or a hold by someone else on a device (`manual`). */
export interface TimelineRun {
  /** Unique across the daemon's life: `run-12`, `hold-manual:bath_bulb-3`. */
  readonly id: string
  readonly name: string
  readonly kind: 'automation' | 'hold'
  readonly start: number
  end?: number
  outcome?: string
  readonly segments: TimelineSegment[]
  readonly notes: TimelineNote[]
}

/** Enough rows for the last few minutes of a busy evening, and a page that stays light on a phone. */
const DEFAULT_KEEP = 40

/**
 * The recent runs, built in memory from the daemon's `run` and `lock` events: when each waited, ran and was
 * suspended, who preempted it, and whether it resumed or restarted. `onChange` gets each row that changed.
 *
 * @example
 * const timeline = new Timeline((run) => streams.send('run', run))
 * events.on(this, 'run', (event) => timeline.run(event))
 * events.on(this, 'lock', (event) => timeline.lock(event, Date.now()))
 */
export class Timeline {
  private readonly rows: TimelineRun[] = []
  /** Run number → its row, until the run ends. */
  private readonly openRuns = new Map<number, TimelineRun>()
  /** Automation name → who took its lock last (from the lock event, which comes before the run's `lock-lost`). */
  private readonly preemptedBy = new Map<string, string>()
  /** Run id → what its `on_preempt` decided last, to tell a resume from a restart when it runs again. */
  private readonly recovery = new Map<number, string>()
  /** lockerGuid + device of a non-automation holder → its open row. */
  private readonly holds = new Map<string, TimelineRun>()
  private holdCount = 0

  constructor(
    private readonly onChange: (run: TimelineRun) => void = () => {},
    private readonly keep = DEFAULT_KEEP,
  ) {}

  /** The rows, oldest first. */
  get runs(): readonly TimelineRun[] {
    return this.rows
  }

  run(event: RunEvent): void {
    if (event.type === 'triggered') {
      const row: TimelineRun = {
        id: `run-${event.run}`,
        name: event.automation,
        kind: 'automation',
        start: event.at,
        segments: [{ state: 'waiting', from: event.at }],
        notes: [],
      }
      this.openRuns.set(event.run, row)
      this.add(row)
      return
    }
    const row = this.openRuns.get(event.run)
    if (!row) return
    switch (event.type) {
      case 'running': {
        const wasSuspended = last(row)?.state === 'suspended'
        switchTo(row, 'running', event.at)
        if (wasSuspended) {
          const restarted = this.recovery.get(event.run) === 'restart'
          row.notes.push({
            at: event.at,
            kind: restarted ? 'restarted' : 'resumed',
            text: restarted ? 'restarted' : 'resumed',
          })
        }
        break
      }
      case 'lock-lost': {
        switchTo(row, 'suspended', event.at)
        const by = this.preemptedBy.get(event.automation)
        this.preemptedBy.delete(event.automation)
        row.notes.push({
          at: event.at,
          kind: 'preempted',
          text: by ? `preempted by ${by}` : `lost its lock (${event.code})`,
        })
        break
      }
      case 'recovered':
        this.recovery.set(event.run, event.action)
        if (event.action !== 'resume' && event.action !== 'restart') {
          row.notes.push({
            at: event.at,
            kind: 'recovered',
            text: event.with ? `replaced by ${event.with}` : event.action,
          })
        }
        break
      case 'ended':
        closeSegment(row, event.at)
        row.end = event.at
        row.outcome = event.outcome
        row.notes.push({
          at: event.at,
          kind: event.outcome === 'failed' ? 'failed' : 'ended',
          text: event.error ? `${event.outcome}: ${event.error}` : event.outcome,
        })
        this.openRuns.delete(event.run)
        this.recovery.delete(event.run)
        break
      default:
        return // steps and commands: the traces tell those
    }
    this.onChange(row)
  }

  lock(event: LockEvent, now: number): void {
    if (event.type === 'preempted' && event.by && event.lockerGuid.startsWith('automation:')) {
      this.preemptedBy.set(holderName(event.lockerGuid), `${holderName(event.by.lockerGuid)} (${event.by.priority})`)
    }
    if (event.lockerGuid.startsWith('automation:')) return
    this.hold(event, now)
  }

  /** A holder that is not an automation (a manual command or hold): its own row per device. */
  private hold(event: LockEvent, now: number): void {
    const key = `${event.lockerGuid} ${event.resource}`
    let row = this.holds.get(key)
    if (!row) {
      if (event.type !== 'waiting' && event.type !== 'acquired') return
      row = {
        id: `hold-${event.lockerGuid}-${++this.holdCount}`,
        name: `${holderName(event.lockerGuid)} on ${event.resource}`,
        kind: 'hold',
        start: now,
        segments: [{ state: event.type === 'waiting' ? 'waiting' : 'running', from: now }],
        notes: [],
      }
      this.holds.set(key, row)
      this.add(row)
      return
    }
    switch (event.type) {
      case 'acquired':
        if (last(row)?.state === 'suspended') row.notes.push({ at: now, kind: 'resumed', text: 'resumed' })
        switchTo(row, 'running', now)
        break
      case 'preempted': {
        switchTo(row, 'suspended', now)
        const by = event.by ? `${holderName(event.by.lockerGuid)} (${event.by.priority})` : 'a higher priority'
        row.notes.push({ at: now, kind: 'preempted', text: `preempted by ${by}` })
        break
      }
      case 'released':
      case 'expired':
      case 'lost':
      case 'gave-up':
        closeSegment(row, now)
        row.end = now
        row.outcome = event.type
        row.notes.push({ at: now, kind: 'ended', text: event.type })
        this.holds.delete(key)
        break
      default:
        return
    }
    this.onChange(row)
  }

  private add(row: TimelineRun): void {
    this.rows.push(row)
    if (this.rows.length > this.keep) this.rows.splice(0, this.rows.length - this.keep)
    this.onChange(row)
  }
}

function last(row: TimelineRun): TimelineSegment | undefined {
  return row.segments.at(-1)
}

function closeSegment(row: TimelineRun, at: number): void {
  const segment = last(row)
  if (segment && segment.to === undefined) segment.to = at
}

function switchTo(row: TimelineRun, state: TimelineSegment['state'], at: number): void {
  if (last(row)?.state === state && last(row)?.to === undefined) return
  closeSegment(row, at)
  row.segments.push({ state, from: at })
}

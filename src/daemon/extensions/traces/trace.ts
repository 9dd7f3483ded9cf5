import type { RunEvent, RunEventBody, RunOutcomeKind, TriggerVia } from '../../../automation/index.js'
import type { LockEvent } from '../../../lock/index.js'
import { holderName } from '../../holders.js'

/** Who held (or took) a bulb, and at which priority. */
export interface Holder {
  /** An automation's name, or `manual` (a light command from Home Assistant). */
  readonly holder: string
  readonly priority: number
}

/** A run event as a trace keeps it. */
type RunEntry<T extends RunEventBody['type']> = Extract<RunEventBody, { readonly type: T }>

/** One line of a run's timeline; `at` is epoch ms. Most lines are the run's own events, as the engine sent them. */
export type TraceEntry = { readonly at: number } & (
  | RunEntry<'triggered'>
  /** The run asked for `device` while someone else held it. */
  | { readonly type: 'waiting'; readonly device: string; readonly heldBy?: Holder }
  /** The run got its lock: the first time, or back after a preemption. */
  | RunEntry<'running'>
  /** A trace file may name a step kind a later version no longer has: kept as text. */
  | (Omit<RunEntry<'step'>, 'kind'> & { readonly kind: string })
  | RunEntry<'command'>
  /** The run lost its lock at `step`: `code` PREEMPTED (by `by`) or EXPIRED (its ttl). */
  | { readonly type: 'preempted'; readonly step: string; readonly code: string; readonly by?: Holder }
  /** What `on_preempt` did about it; `with`: the replacing automation. */
  | RunEntry<'recovered'>
  | RunEntry<'ended'>
  /** Entries left out of a long run's middle (a `repeat: forever` would otherwise grow without end). */
  | { readonly type: 'omitted'; readonly count: number }
)

/** Where a run is, or how it ended. */
export type TraceResult = 'waiting' | 'running' | 'suspended' | RunOutcomeKind

/** Everything recorded about one run. */
export interface RunTrace {
  readonly automation: string
  /** Numbers this automation's runs 1, 2, 3, …, across restarts (the engine's own run ids start over). */
  readonly number: number
  readonly started: number
  ended?: number
  result: TraceResult
  /** Why it failed or was aborted, or the first error of a step that `on_error: continue` went past. */
  error?: string
  /** The last holder that took the bulbs away from it. */
  preemptedBy?: Holder
  readonly entries: TraceEntry[]
}

/**
 * Most entries one run keeps: the first {@link HEAD} and the last ones. A `repeat: forever` run has no end, and
 * the trace file (20 runs per automation) must stay small on a Pi's SD card.
 */
export const MAX_ENTRIES = 120
const HEAD = 30

/** The last run's summary, as published on `<base>/automation/<name>/trace`. */
export interface TraceSummary {
  readonly run: number
  readonly result: TraceResult
  readonly started: string
  readonly ended: string | null
  readonly trigger: TriggerVia | null
  readonly preempted_by: string | null
  readonly preempted_priority: number | null
  readonly error: string | null
}

export function summaryOf(trace: RunTrace): TraceSummary {
  const triggered = trace.entries.find((entry) => entry.type === 'triggered')
  return {
    run: trace.number,
    result: trace.result,
    started: new Date(trace.started).toISOString(),
    ended: trace.ended === undefined ? null : new Date(trace.ended).toISOString(),
    trigger: triggered?.type === 'triggered' ? triggered.via : null,
    preempted_by: trace.preemptedBy?.holder ?? null,
    preempted_priority: trace.preemptedBy?.priority ?? null,
    error: trace.error ?? null,
  }
}

/** Adds `entry` to `trace`, dropping from the middle once it holds {@link MAX_ENTRIES}. */
export function append(trace: RunTrace, entry: TraceEntry): void {
  const { entries } = trace
  if (entries.length >= MAX_ENTRIES) {
    const marker = entries[HEAD]
    if (marker?.type === 'omitted') {
      entries.splice(HEAD + 1, 1)
      entries[HEAD] = { ...marker, count: marker.count + 1 }
    } else {
      entries.splice(HEAD, 2, { type: 'omitted', at: entries[HEAD + 1]!.at, count: 2 })
    }
  }
  entries.push(entry)
}

/**
 * Turns the engine's run events and the lock events into run traces. The lock events say what the run events do
 * not: whom a waiting run waits for, and who took the bulbs from it (the engine only sees that it lost them).
 */
export class TraceRecorder {
  /** Runs not ended yet, by the engine's run id. */
  private readonly live = new Map<number, RunTrace>()
  /** The holder of each device's lock, with its priority. */
  private readonly holders = new Map<string, Holder & { lockerGuid: string }>()
  /** Per automation: who took its bulbs last, until its run reports the loss. */
  private readonly takenBy = new Map<string, Holder>()
  /**
   * The time of the last run event. Lock events carry no time, and the engine's clock may be virtual (`genlock
   * simulate`): a run asks for its lock right after it is triggered or recovers, so a wait is stamped with that.
   */
  private lastAt = 0

  constructor(
    /** Gives the next run number of `automation`. */
    private readonly nextNumber: (automation: string) => number,
    /** Called when a run starts, changes in a way its summary shows, or ends. */
    private readonly changed: (trace: RunTrace, ended: boolean) => void,
  ) {}

  /** Runs under way. */
  get running(): readonly RunTrace[] {
    return [...this.live.values()]
  }

  onRun(event: RunEvent): void {
    const { at } = event
    this.lastAt = at
    if (event.type === 'triggered') {
      const trace: RunTrace = {
        automation: event.automation,
        number: this.nextNumber(event.automation),
        started: at,
        result: 'waiting',
        entries: [{ at, type: 'triggered', via: event.via }],
      }
      this.live.set(event.run, trace)
      this.changed(trace, false)
      return
    }
    const trace = this.live.get(event.run)
    if (!trace) return // started before we listened
    switch (event.type) {
      case 'running':
        trace.result = 'running'
        append(trace, { at, type: 'running' })
        break
      case 'step':
        if (event.error !== undefined) trace.error ??= event.error
        append(trace, {
          at,
          type: 'step',
          path: event.path,
          kind: event.kind,
          phase: event.phase,
          ...(event.error === undefined ? {} : { error: event.error }),
        })
        break
      case 'command': {
        const { device, command, ok, state, error, ms } = event
        append(trace, {
          at,
          type: 'command',
          device,
          command,
          ok,
          ms,
          ...(state ? { state } : {}),
          ...(error === undefined ? {} : { error }),
        })
        break
      }
      case 'lock-lost': {
        // A ttl that ran out has no taker: a taker noted for another of its runs is not this one's.
        const by = event.code === 'PREEMPTED' ? this.takenBy.get(trace.automation) : undefined
        this.takenBy.delete(trace.automation)
        trace.result = 'suspended'
        if (by) trace.preemptedBy = by
        append(trace, { at, type: 'preempted', step: event.step, code: event.code, ...(by ? { by } : {}) })
        this.changed(trace, false)
        break
      }
      case 'recovered':
        append(trace, { at, type: 'recovered', action: event.action, ...(event.with ? { with: event.with } : {}) })
        break
      case 'ended':
        trace.result = event.outcome
        trace.ended = at
        if (event.error !== undefined) trace.error = event.error
        append(trace, { at, type: 'ended', outcome: event.outcome, ...(event.error ? { error: event.error } : {}) })
        this.live.delete(event.run)
        this.changed(trace, true)
        break
    }
  }

  onLock(event: LockEvent): void {
    const { resource } = event
    const at = this.lastAt
    if (event.type === 'acquired') {
      this.holders.set(resource, {
        lockerGuid: event.lockerGuid,
        holder: holderName(event.lockerGuid),
        priority: event.priority,
      })
    } else if (event.type !== 'waiting' && event.type !== 'gave-up') {
      if (this.holders.get(resource)?.lockerGuid === event.lockerGuid) this.holders.delete(resource)
    }
    const automation = automationOf(event.lockerGuid)
    if (automation === undefined) return
    if (event.type === 'waiting') {
      const trace = this.latestWaiting(automation)
      const held = this.holders.get(resource)
      if (trace) {
        const heldBy = held && { holder: held.holder, priority: held.priority }
        append(trace, { at, type: 'waiting', device: resource, ...(heldBy ? { heldBy } : {}) })
      }
    } else if (event.type === 'preempted' && event.by) {
      const by = { holder: holderName(event.by.lockerGuid), priority: event.by.priority }
      // The run reports its loss after this event (then it takes `by` along): unless it already did.
      const trace = this.latestOf(automation, 'suspended')
      const last = trace?.entries.at(-1)
      if (trace && last?.type === 'preempted' && !last.by) {
        trace.entries[trace.entries.length - 1] = { ...last, by }
        trace.preemptedBy = by
        this.changed(trace, false)
      } else {
        this.takenBy.set(automation, by)
      }
    }
  }

  /** The newest run of `automation` that waits for its lock (a new one, or one suspended). */
  private latestWaiting(automation: string): RunTrace | undefined {
    return this.latestOf(automation, 'waiting') ?? this.latestOf(automation, 'suspended')
  }

  private latestOf(automation: string, result: TraceResult): RunTrace | undefined {
    let found: RunTrace | undefined
    for (const trace of this.live.values()) {
      if (trace.automation === automation && trace.result === result) found = trace
    }
    return found
  }
}

/** The automation a lockerGuid belongs to, if it is one's. */
function automationOf(lockerGuid: string): string | undefined {
  return lockerGuid.startsWith('automation:') ? lockerGuid.slice('automation:'.length) : undefined
}

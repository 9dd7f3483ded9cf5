import type { Logger } from 'pino'
import type { BulbCommand, BulbState } from '../devices/bulb.js'
import type { LockErrorCode } from '../lock/index.js'
import type { Clock } from './clock.js'
import type { DeviceStateValue, ScheduleTriggerDefinition, StepKind } from './definition.js'

/** What started a run. */
export type TriggerVia =
  | { readonly kind: 'mqtt'; readonly topic: string; readonly payload: string }
  | { readonly kind: 'command' }
  /** An `at`, `cron` or `sun` trigger; `scheduled`: when it was due (epoch ms); `catchUp`: run late after a restart. */
  | {
      readonly kind: 'schedule'
      readonly trigger: ScheduleTriggerDefinition['kind']
      readonly scheduled: number
      readonly catchUp?: true
    }
  /** A `state` trigger: the bulb went `from` → `to`. */
  | { readonly kind: 'state'; readonly device: string; readonly from: DeviceStateValue; readonly to: DeviceStateValue }

/** How a run ended: as `AutomationRun` settles it. */
export type RunOutcomeKind = 'completed' | 'stopped' | 'aborted' | 'failed'

/** What a run does after losing its lock: its `on_preempt`. */
export type RecoveryAction = 'resume' | 'restart' | 'abort' | 'replace'

/** One thing that happened in a run, by `type`. */
export type RunEventBody =
  /** A run was started (a queued one when it leaves the queue). */
  | { readonly type: 'triggered'; readonly via: TriggerVia }
  /** A step began or ended; `error` when it failed (also when `on_error: continue` went on past it). */
  | {
      readonly type: 'step'
      /** Where the step is in its file, e.g. `steps.0.repeat.steps.1`. */
      readonly path: string
      readonly kind: StepKind
      readonly phase: 'start' | 'end'
      readonly error?: string
    }
  /** A bulb answered a command of a `set` step (`ms`: from sending to the answer). */
  | {
      readonly type: 'command'
      readonly device: string
      readonly command: BulbCommand
      readonly ok: boolean
      readonly state?: BulbState
      readonly error?: string
      readonly ms: number
    }
  /** The run lost its lock (to a higher priority, or its ttl ran out) at the step with path `step`. */
  | { readonly type: 'lock-lost'; readonly code: LockErrorCode; readonly step: string }
  /** What `on_preempt` decided; `with`: the replacing automation's name. */
  | { readonly type: 'recovered'; readonly action: RecoveryAction; readonly with?: string }
  /** The run got its lock: the first time, or again after a loss. */
  | { readonly type: 'running' }
  | { readonly type: 'ended'; readonly outcome: RunOutcomeKind; readonly error?: string }

/**
 * What the engine reports about runs, on `engine.on('run', listener)`. `run` is unique per engine (it keeps
 * counting across reloads); `at` is epoch ms. Who preempted whom is in the lock events.
 */
export type RunEvent = { readonly automation: string; readonly run: number; readonly at: number } & RunEventBody

export type RunEventListener = (event: RunEvent) => void

/**
 * Hands run events to their listeners. The trigger → command path is benchmarked, so emitters check `listening`
 * before they build an event: with nobody listening a run allocates nothing for events.
 */
export class RunEvents {
  /** True while at least one listener is registered. */
  listening = false
  private readonly listeners = new Set<RunEventListener>()

  constructor(
    private readonly logger: Logger,
    /** Stamps `at`: the engine's clock, so a simulation's events carry its virtual time. */
    private readonly clock: Clock,
  ) {}

  /** Calls `listener` for every run event. Returns the unsubscribe function. */
  on(listener: RunEventListener): () => void {
    this.listeners.add(listener)
    this.listening = true
    return () => {
      this.listeners.delete(listener)
      this.listening = this.listeners.size > 0
    }
  }

  /** Stamps `body` with the run and the time, and hands it to every listener (a throwing one is logged). */
  emit(automation: string, run: number, body: RunEventBody): void {
    const event: RunEvent = { automation, run, at: this.clock.now(), ...body }
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch (error) {
        this.logger.error({ err: error, automation, run, event: body.type }, 'a run event listener failed')
      }
    }
  }
}

import type { Logger } from 'pino'
import type { Bulb } from '../devices/bulb.js'
import { isLockError, type LockError } from '../lock/errors.js'
import type { CommitPromise, Locker, Transaction } from '../lock/index.js'
import type { CompiledAutomation } from './compile.js'
import { runVariables, type ExpressionLookups, type TriggerData } from './expression-context.js'
import type { RecoveryAction, RunEventBody, RunOutcomeKind, TriggerVia } from './run-events.js'
import { resumingWithLook, type RunLooks } from './resume-look.js'
import { StepRuntime, type RunProgress, type RunServices, type StepCode } from './step-runtime.js'

/** How long a trigger waits for an unreachable lock backend by default (`lock.outage_wait`). */
export const DEFAULT_OUTAGE_WAIT_MS = 5 * 60_000

/** While it waits for the lock backend, a run tries again this often even if nothing says it is back. */
const OUTAGE_RETRY_MS = 5_000

/** Where one run is. */
export type RunState = 'waiting' | 'running' | 'suspended' | 'done'

/** How a run ended. */
export type RunOutcome =
  | { readonly kind: 'completed' }
  /** Cancelled: by a stop trigger, an OFF command, a restart-mode re-trigger or the engine stopping. */
  | { readonly kind: 'stopped' }
  /** Lost its lock with `on_preempt: abort`. */
  | { readonly kind: 'aborted'; readonly error: Error }
  /** A step failed, or the lock could not be had. */
  | { readonly kind: 'failed'; readonly error: Error }

/**
 * How a run was started: an MQTT trigger, the `<base>/automation/<name>/set` command (both with the message as
 * `trigger`), a schedule (`at`, `cron`, `sun`: a ScheduleFiring) or a bulb's state change (a StateChange).
 */
export type TriggerSource = 'mqtt' | 'command' | 'schedule' | 'state'

/** The `triggered` run event's `via`: built only while someone listens to run events. */
export function triggerVia(source: TriggerSource, trigger: TriggerData): TriggerVia {
  if (source === 'command') return { kind: 'command' }
  if ('topic' in trigger) return { kind: 'mqtt', topic: trigger.topic, payload: trigger.payload }
  if (trigger.kind === 'state') return { kind: 'state', device: trigger.device, from: trigger.from, to: trigger.to }
  return {
    kind: 'schedule',
    trigger: trigger.kind,
    scheduled: trigger.timestamp,
    ...(trigger.catch_up ? { catchUp: true } : {}),
  }
}

/** What a run needs from its automation: all of it made before the run starts. */
export interface RunOwner {
  readonly plan: CompiledAutomation
  /** Its `on_preempt: { replace }` steps as last linked (a reload may relink them). */
  readonly replacement: CompiledAutomation['replacement']
  readonly locker: Locker<Bulb | Bulb[]>
  readonly services: RunServices & { readonly lookups: ExpressionLookups }
  readonly logger: Logger
  /** Takes the `restore` snapshot if the automation has none yet (called as a run first gets the lock). */
  snapshotOnce(): void
  runChanged(run: AutomationRun): void
}

/**
 * One run of an automation: its steps as one transaction under the automation's lock, steered by
 * `on_preempt` when the lock is lost. It reports its run events; its steps report theirs through it.
 */
export class AutomationRun implements RunProgress {
  state: RunState = 'waiting'
  step = ''
  /** Settles (never rejects) when the run is over. */
  readonly finished: Promise<RunOutcome>
  readonly logger: Logger
  readonly automation: string
  readonly onError: 'abort' | 'continue'
  readonly services: RunServices
  readonly looks: RunLooks | undefined
  private settle!: (outcome: RunOutcome) => void
  private commit: CommitPromise<void, Bulb | Bulb[]> | undefined
  private cancelReason: string | undefined
  /** When a run that waits out a lock backend outage gives up (set at its first failed acquire). */
  private outageDeadline: number | undefined
  /** Ends the wait for the lock backend (set while a run waits for it). */
  private stopWaitingForBackend: (() => void) | undefined

  constructor(
    private readonly owner: RunOwner,
    private readonly trigger: TriggerData,
    private readonly source: TriggerSource,
    readonly id: number,
  ) {
    this.logger = owner.logger.child({ run: id })
    this.automation = owner.plan.definition.name
    this.onError = owner.plan.definition.onError
    this.services = owner.services
    // Only a run that resumes where it was needs its look back; the others start their steps over.
    this.looks = owner.plan.definition.onPreempt === 'resume' ? new Map() : undefined
    this.finished = new Promise((resolve) => (this.settle = resolve))
  }

  /**
   * Asks for the lock and runs. Separate from the constructor because a free lock is granted synchronously and
   * the first step runs at once: the automation must already count this run among its runs by then.
   */
  start(): void {
    if (this.commit) return
    if (this.cancelReason !== undefined) {
      this.settle({ kind: 'stopped' })
      return
    }
    if (this.services.events.listening) this.report({ type: 'triggered', via: triggerVia(this.source, this.trigger) })
    this.acquire()
  }

  private acquire(): void {
    const backend = this.services.lockBackend
    // Whether the backend was out of reach at any time while this acquire waited.
    let outage = backend !== undefined && !backend.reachable
    const unwatch = backend?.onChange((reachable) => (outage ||= !reachable))
    const commit = this.owner.locker.promise(this.transaction(this.owner.plan.steps))
    this.commit = commit
    commit.recover((ops, error) => {
      this.setState('suspended')
      const policy = this.owner.plan.definition.onPreempt
      const action: RecoveryAction = typeof policy === 'object' ? 'replace' : policy
      const decision = typeof policy === 'object' ? `replace with ${policy.replace}` : policy
      this.logger.info({ code: error.code }, `lost the lock (${error.message}); on_preempt: ${decision}`)
      if (this.services.events.listening) {
        this.report({ type: 'lock-lost', code: error.code, step: this.step })
        this.report({ type: 'recovered', action, ...(typeof policy === 'object' ? { with: policy.replace } : {}) })
      }
      if (policy === 'resume') return ops.resume()
      if (policy === 'restart') return ops.restart()
      if (policy === 'abort') return ops.reject(error)
      const replacement = this.owner.replacement
      if (!replacement) return ops.reject(new Error(`on_preempt: automation '${policy.replace}' is not loaded`))
      if ('problem' in replacement) return ops.reject(new Error(`on_preempt: ${replacement.problem}`))
      return ops.replace(this.transaction(replacement.steps))
    })
    commit.then(
      () => {
        unwatch?.()
        this.end({ kind: 'completed' })
      },
      (error: unknown) => {
        unwatch?.()
        if (outage && this.state === 'waiting' && this.cancelReason === undefined && isAcquireFailure(error)) {
          this.waitForBackend(error)
          return
        }
        const err = error instanceof Error ? error : new Error(String(error))
        if (isLockError(error, 'CANCELLED')) this.end({ kind: 'stopped' })
        else if (isLockError(error) && error.recoverable) this.end({ kind: 'aborted', error: err })
        else this.end({ kind: 'failed', error: err })
      },
    )
  }

  /**
   * The lock could not be had while the lock backend (Redis) was out of reach: the trigger is not lost, the run
   * asks again once the backend is back (and every few seconds meanwhile), for at most `lock.outage_wait` from the
   * first failure. Each new attempt has the whole `acquire_timeout` again: an outage does not count against it.
   */
  private waitForBackend(error: LockError): void {
    const { clock } = this.services
    const bound = this.owner.plan.definition.lock.outageWait ?? DEFAULT_OUTAGE_WAIT_MS
    const first = this.outageDeadline === undefined
    this.outageDeadline ??= clock.now() + bound
    const left = this.outageDeadline - clock.now()
    if (left <= 0) {
      const message = `${error.message}; the lock backend was out of reach for longer than lock.outage_wait (${bound} ms)`
      this.end({ kind: 'failed', error: new Error(message, { cause: error }) })
      return
    }
    if (first) {
      this.logger.warn(
        { code: error.code },
        `the lock backend is out of reach (${error.message}); the run asks again once it is back ` +
          `(for up to ${Math.round(bound / 1000)} s, lock.outage_wait)`,
      )
    }
    const cleanups: (() => void)[] = []
    const stop = () => {
      for (const cleanup of cleanups) cleanup()
      this.stopWaitingForBackend = undefined
    }
    const retry = () => {
      stop()
      this.acquire()
    }
    this.stopWaitingForBackend = () => {
      stop()
      this.end({ kind: 'stopped' })
    }
    const backend = this.services.lockBackend
    if (backend?.reachable) {
      // Back already (it came back while the failed acquire was still waiting): ask again at once.
      queueMicrotask(() => {
        if (this.stopWaitingForBackend) retry()
      })
      return
    }
    if (backend) cleanups.push(backend.onChange((reachable) => reachable && retry()))
    cleanups.push(clock.after(Math.min(OUTAGE_RETRY_MS, left), retry))
  }

  /** True once `cancel` was called (the run may take a few microtasks more to be over). */
  get cancelled(): boolean {
    return this.cancelReason !== undefined
  }

  /** Ends the run wherever it is (waiting, running or suspended). */
  cancel(reason: string): void {
    this.cancelReason = reason
    if (this.stopWaitingForBackend) this.stopWaitingForBackend()
    else this.commit?.cancel(reason)
  }

  markRunning(): void {
    this.setState('running')
  }

  private end(outcome: RunOutcome): void {
    // No runChanged here: the automation reports its state once it has dealt with the end (a queued run may start).
    this.state = 'done'
    if (this.services.events.listening) {
      const error = outcome.kind === 'aborted' || outcome.kind === 'failed' ? outcome.error.message : undefined
      this.report({
        type: 'ended',
        outcome: outcome.kind satisfies RunOutcomeKind,
        ...(error === undefined ? {} : { error }),
      })
    }
    this.settle(outcome)
  }

  private transaction(steps: StepCode): Transaction<Bulb | Bulb[], void> {
    const devices = this.owner.plan.definition.devices
    return (resource, ctx) => {
      const handles = Array.isArray(resource) ? resource : [resource]
      const bulbs = new Map(devices.map((id, i) => [id, handles[i]!]))
      this.owner.snapshotOnce()
      const variables = runVariables(this.automation, this.trigger, this.owner.services.lookups)
      const runtime = new StepRuntime(this, ctx, bulbs, variables)
      const running = steps(runtime)
      if (!this.looks) return running
      return resumingWithLook(running, ctx, this.looks, bulbs, {
        commands: this.services.commands,
        holder: this.automation,
        warn: (message) => this.logger.warn(message),
        report: (device, command, answer) => {
          if (runtime.events.listening) runtime.reportCommand(device, command, answer)
        },
      })
    }
  }

  private setState(state: RunState): void {
    if (this.state === state || this.state === 'done') return
    const was = this.state
    this.state = state
    if (state === 'running') {
      this.logger.info(was === 'suspended' ? 'got the lock back' : 'got the lock')
      if (this.services.events.listening) this.report({ type: 'running' })
    }
    this.owner.runChanged(this)
  }

  private report(body: RunEventBody): void {
    this.services.events.emit(this.automation, this.id, body)
  }
}

/** A failure to get the lock (never held) that a backend outage explains: timed out, or the backend gone. */
function isAcquireFailure(error: unknown): error is LockError {
  return isLockError(error, 'ACQUIRE_TIMEOUT') || isLockError(error, 'LOST')
}

import type { Logger } from 'pino'
import type { Bulb, BulbState } from '../devices/bulb.js'
import type { Locker, LockerFactory } from '../lock/index.js'
import { AutomationRun, type RunOutcome, type RunOwner, type TriggerSource } from './automation-run.js'
import type { CompiledAutomation, CompiledReplacement } from './compile.js'
import type { AutomationDefinition } from './definition.js'
import { runVariables, type ExpressionLookups } from './expression-context.js'
import type { IncomingMessage } from './message-hub.js'
import { restoreDevice } from './restore.js'
import type { AutomationState, AutomationStatus } from './status.js'
import type { RunServices } from './step-runtime.js'
import { triggerMismatch, type CompiledTrigger } from './trigger-match.js'

/** What every automation shares, built once by the engine. */
export interface AutomationServices extends RunServices {
  readonly locks: LockerFactory
  readonly lookups: ExpressionLookups
  readonly logger: Logger
  /** How long putting one bulb back may take before it is given up, ms. */
  readonly restoreTimeoutMs: number
  /** The next run id (unique per engine). */
  nextRunId(): number
}

/**
 * One loaded automation: its lock over its devices, its triggers and stops, its runs under its `mode`, and
 * putting the bulbs back (`restore`) when the last run ends. Everything it runs was compiled before it was
 * made; it never asks the engine for anything, and tells its owner of status changes through `onChange`.
 */
export class Automation implements RunOwner {
  readonly locker: Locker<Bulb | Bulb[]>
  readonly logger: Logger
  private readonly deviceLockers: Locker<Bulb>[]
  private readonly runs = new Set<AutomationRun>()
  private readonly queue: { readonly message: IncomingMessage; readonly source: TriggerSource }[] = []
  private readonly subscriptions: (() => void)[] = []
  private currentReplacement: CompiledReplacement | undefined
  private snapshot: Map<string, Promise<BulbState>> | undefined
  private lastError: string | undefined
  private restoring: Promise<void> = Promise.resolve()
  private disposed = false

  constructor(
    readonly plan: CompiledAutomation,
    /** Its devices' bulbs, in `devices` order: a hot reload that swaps one rebuilds the automation. */
    readonly bulbs: readonly Bulb[],
    readonly services: AutomationServices,
    private readonly onChange: (automation: Automation) => void,
  ) {
    const { definition } = plan
    this.currentReplacement = plan.replacement
    this.logger = services.logger.child({ automation: definition.name })
    const lockOptions = {
      priority: definition.priority,
      ...(definition.lock.ttl === undefined ? {} : { lockTtl: definition.lock.ttl }),
      ...(definition.lock.acquireTimeout === undefined ? {} : { acquireTimeout: definition.lock.acquireTimeout }),
    }
    // One lockerGuid per automation: its parallel-mode runs share the lock (re-entrance) instead of queueing
    // behind each other, and a restore acquires as the same holder.
    const guid = `automation:${definition.name}`
    this.deviceLockers = definition.devices.map((id, i) => services.locks.newLocker(id, bulbs[i]!, lockOptions, guid))
    this.locker = (
      this.deviceLockers.length === 1
        ? this.deviceLockers[0]!
        : services.locks.newGroupLocker(this.deviceLockers, lockOptions, guid)
    ) as Locker<Bulb | Bulb[]>
  }

  get name(): string {
    return this.plan.definition.name
  }

  get definition(): AutomationDefinition {
    return this.plan.definition
  }

  /** Its `on_preempt: { replace }` steps, as last linked. */
  get replacement(): CompiledReplacement | undefined {
    return this.currentReplacement
  }

  /** Takes the replacing steps of a reload that left this automation unchanged but relinked what replaces it. */
  relink(replacement: CompiledReplacement | undefined): void {
    this.currentReplacement = replacement
  }

  /** Subscribes triggers (when enabled), stops, and the topics its steps wait for or read. */
  start(): void {
    const { plan, services } = this
    const hub = services.hub
    if (plan.definition.enabled) {
      for (const trigger of plan.triggers) {
        this.subscriptions.push(hub.watch(trigger.topic, (message) => this.onTrigger(trigger, message)))
      }
    }
    for (const stop of plan.stops) {
      this.subscriptions.push(hub.watch(stop.topic, (message) => this.onStop(stop, message)))
    }
    // Subscribed from the start so a message right after a wait_for begins is not missed while the broker
    // confirms a new subscription, and so `last['topic']` in an expression has something to read.
    for (const topic of plan.watchedTopics) this.subscriptions.push(hub.watch(topic, () => {}))
  }

  /** Starts a run (or queues it, or ignores it) as `mode` says. */
  fire(message: IncomingMessage, source: TriggerSource): void {
    if (this.disposed) return
    const { mode, max } = this.plan.definition
    const via = source === 'command' ? 'command ON' : `mqtt ${message.topic}`
    this.logger.info({ via, topic: message.topic }, `triggered by ${via}`)
    // Runs already cancelled do not count: an OFF and an ON read from one network packet must start a new run.
    const live = this.liveRuns()
    if (live.length > 0) {
      if (mode === 'single') {
        this.logger.info('already running; trigger ignored (mode: single)')
        return
      }
      if (mode === 'restart') {
        this.logger.info('already running; restarting (mode: restart)')
        for (const run of live) run.cancel('restarted by a new trigger (mode: restart)')
      } else if (mode === 'queued') {
        if (live.length + this.queue.length >= max) {
          this.logger.warn(`queue full (max ${max}); trigger dropped`)
          return
        }
        this.queue.push({ message, source })
        this.onChange(this)
        return
      } else if (live.length >= max) {
        this.logger.warn(`already ${live.length} runs (max ${max}); trigger dropped`)
        return
      }
    }
    this.launch(message, source)
  }

  /** Cancels every run and queued trigger; resolves once they are over and the bulbs restored (if configured). */
  async stopRuns(reason: string): Promise<void> {
    this.queue.length = 0
    if (this.runs.size === 0) {
      this.logger.debug(`${reason}: not running; nothing to stop`)
      this.onChange(this)
      return this.restoring
    }
    this.logger.info(`stopping: ${reason}`)
    const runs = [...this.runs]
    for (const run of runs) run.cancel(reason)
    await Promise.all(runs.map((run) => run.finished))
    await this.restoring
  }

  /** Unsubscribes and stops (used on unload, hot reload of a changed file, and engine stop). */
  async dispose(reason: string): Promise<void> {
    this.disposed = true
    for (const unsubscribe of this.subscriptions.splice(0)) unsubscribe()
    await this.stopRuns(reason)
  }

  status(): AutomationStatus {
    return {
      name: this.name,
      state: this.state(),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    }
  }

  /** True while one of its runs holds the lock on `deviceId`. */
  holds(deviceId: string): boolean {
    if (!this.plan.definition.devices.includes(deviceId)) return false
    for (const run of this.runs) if (run.state === 'running') return true
    return false
  }

  // --- RunOwner ---------------------------------------------------------------------------------------

  snapshotOnce(): void {
    const { definition } = this.plan
    if (!definition.restore || this.snapshot) return
    // After the commands already on their way (the preempted automation's last one): the snapshot is the state
    // that automation left behind, not the one before its last step.
    this.snapshot = new Map(
      this.bulbs.map((bulb, i) => {
        const id = definition.devices[i]!
        return [id, this.services.commands.stateAfterPending(id, () => bulb.state)]
      }),
    )
  }

  runChanged(): void {
    this.onChange(this)
  }

  // --- internals --------------------------------------------------------------------------------------

  private liveRuns(): AutomationRun[] {
    return [...this.runs].filter((run) => !run.cancelled)
  }

  private state(): AutomationState {
    let suspended = false
    let waiting = this.queue.length > 0
    for (const run of this.runs) {
      if (run.state === 'running') return 'running'
      if (run.state === 'suspended') suspended = true
      if (run.state === 'waiting') waiting = true
    }
    return suspended ? 'suspended' : waiting ? 'waiting' : 'idle'
  }

  private launch(message: IncomingMessage, source: TriggerSource): void {
    const run = new AutomationRun(this, message, source, this.services.nextRunId())
    this.runs.add(run)
    this.lastError = undefined
    void run.finished.then((outcome) => this.ended(run, outcome))
    run.start()
    this.onChange(this)
  }

  private ended(run: AutomationRun, outcome: RunOutcome): void {
    this.runs.delete(run)
    const log = run.logger
    switch (outcome.kind) {
      case 'completed':
        log.info('finished')
        break
      case 'stopped':
        log.info('stopped')
        break
      case 'aborted':
        log.info(`ended: lost the lock with on_preempt: abort (${outcome.error.message})`)
        break
      case 'failed':
        this.lastError = outcome.error.message
        log.error({ err: outcome.error }, `failed: ${outcome.error.message}`)
        break
    }
    if (this.queue.length > 0 && !this.disposed) {
      // Report a failure before the next queued run starts and clears it.
      if (outcome.kind === 'failed') this.onChange(this)
      const next = this.queue.shift()!
      this.launch(next.message, next.source)
      return
    }
    if (this.runs.size === 0) this.restoring = this.restore()
    this.onChange(this)
  }

  /** Puts each bulb back as it was when the automation first got it, unless someone else has it now. */
  private async restore(): Promise<void> {
    const snapshot = this.snapshot
    this.snapshot = undefined
    if (!snapshot) return
    const { devices } = this.plan.definition
    const { restoreTimeoutMs } = this.services
    await Promise.all(
      devices.map((id, i) => {
        const state = snapshot.get(id)
        return state && restoreDevice(id, this.deviceLockers[i]!, state, this.name, restoreTimeoutMs, this.logger)
      }),
    )
  }

  private onTrigger(trigger: CompiledTrigger, message: IncomingMessage): void {
    if (this.matches(trigger, message, 'trigger')) this.fire(message, 'mqtt')
  }

  private onStop(stop: CompiledTrigger, message: IncomingMessage): void {
    if (this.matches(stop, message, 'stop')) void this.stopRuns(`stop on ${message.topic}`)
  }

  private matches(trigger: CompiledTrigger, message: IncomingMessage, role: string): boolean {
    let mismatch: string | undefined
    try {
      mismatch = triggerMismatch(trigger, message, (m) => runVariables(this.name, m, this.services.lookups))
    } catch (error) {
      this.logger.warn(
        { topic: message.topic, err: error },
        `${role} condition failed; message dropped: ${String(error)}`,
      )
      return false
    }
    if (mismatch === undefined) return true
    if (mismatch === 'payload is not JSON') {
      this.logger.warn({ topic: message.topic }, `${role}: payload on ${message.topic} is not JSON; dropped`)
    } else {
      this.logger.debug({ topic: message.topic }, `${role} not matched: ${mismatch}`)
    }
    return false
  }
}

import type { Logger } from 'pino'
import type { Bulb, BulbState } from '../devices/bulb.js'
import type { Locker, LockerFactory } from '../lock/index.js'
import { AutomationRun, type RunOutcome, type RunOwner, type TriggerSource } from './automation-run.js'
import type { CompiledAutomation, CompiledReplacement } from './compile.js'
import type { AutomationDefinition } from './definition.js'
import { runVariables, type ExpressionLookups, type TriggerData } from './expression-context.js'
import { restoreDevice } from './restore.js'
import type { RunJournal } from './run-journal.js'
import type { ScheduleMemory } from './schedule-memory.js'
import type { AutomationState, AutomationStatus } from './status.js'
import type { RunServices } from './step-runtime.js'
import { triggerProblem } from './trigger-check.js'
import { watchTrigger, type TriggerWatchContext } from './trigger-watch.js'
import { WarnLimit } from './warn-limit.js'

/** What every automation shares, built once by the engine. */
export interface AutomationServices extends RunServices {
  readonly locks: LockerFactory
  readonly lookups: ExpressionLookups
  readonly logger: Logger
  /** The time zone schedules and `now` are in; undefined: the machine's own. */
  readonly timeZone: string | undefined
  /** Catch-up records of schedule triggers. */
  readonly memory: ScheduleMemory
  /** Every device by id, as the engine has them now (state triggers watch any of them). */
  devices(): ReadonlyMap<string, Bulb>
  /** What runs are going and what their bulbs were before: on disk, for the start after a crash. */
  readonly journal: RunJournal
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
  /** Warnings a flood of junk triggers would repeat: at most one of a kind a minute. */
  private readonly warnings: WarnLimit
  private readonly deviceLockers: Locker<Bulb>[]
  private readonly runs = new Set<AutomationRun>()
  private readonly queue: { readonly trigger: TriggerData; readonly source: TriggerSource }[] = []
  /** The bulbs its state triggers and stops watch, by device id (a reload that swaps one rebuilds the automation). */
  readonly watchedBulbs: ReadonlyMap<string, Bulb | undefined>
  private readonly subscriptions: (() => void)[] = []
  private currentReplacement: CompiledReplacement | undefined
  private snapshot: Map<string, Promise<BulbState>> | undefined
  /** Per device, who else took its lock since the snapshot (then it is not restored); followed while one exists. */
  private takenSince = new Map<string, string>()
  private stopFollowingLocks: (() => void) | undefined
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
    this.warnings = new WarnLimit(this.logger, services.clock)
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
    const watched = [...plan.triggers, ...plan.stops].flatMap((trigger) =>
      trigger.kind === 'state' ? [trigger.device] : [],
    )
    this.watchedBulbs = new Map(watched.map((id) => [id, services.devices().get(id)]))
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

  /**
   * Arms triggers (when enabled) and stops — subscriptions, schedules, bulb listeners — and subscribes the topics
   * its steps wait for or read.
   */
  start(): void {
    const { plan, services } = this
    const hub = services.hub
    const context: TriggerWatchContext = {
      automation: this.name,
      hub,
      clock: services.clock,
      timeZone: services.timeZone,
      devices: services.devices(),
      memory: services.memory,
      lookups: services.lookups,
      logger: this.logger,
      warnings: this.warnings,
    }
    if (plan.definition.enabled) {
      for (const trigger of plan.triggers) {
        this.subscriptions.push(watchTrigger(trigger, 'trigger', context, (data, source) => this.fire(data, source)))
      }
    }
    for (const stop of plan.stops) {
      this.subscriptions.push(watchTrigger(stop, 'stop', context, (data) => void this.stopRuns(`stop: ${via(data)}`)))
    }
    // Subscribed from the start so a message right after a wait_for begins is not missed while the broker
    // confirms a new subscription, and so `last['topic']` in an expression has something to read.
    for (const topic of plan.watchedTopics) this.subscriptions.push(hub.watch(topic, () => {}))
    for (const topic of plan.lastTopics) this.subscriptions.push(hub.keepLast(topic))
  }

  /** Starts a run (or queues it, or ignores it) as `mode` says. */
  fire(trigger: TriggerData, source: TriggerSource): void {
    if (this.disposed) return
    const { mode, max } = this.plan.definition
    const by = source === 'command' ? 'command ON' : via(trigger)
    // Only messages are checked: a person's ON (the command topic, Home Assistant) runs and fails visibly.
    const problem =
      source !== 'mqtt' || this.plan.setChecks.length === 0
        ? undefined
        : triggerProblem(this.plan.setChecks, runVariables(this.name, trigger, this.services.lookups))
    if (problem !== undefined) {
      this.warnings.warn('rejected', { via: by }, `trigger ${by} rejected before taking the lock: ${problem}`)
      return
    }
    this.logger.info({ via: by }, `triggered by ${by}`)
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
        this.queue.push({ trigger, source })
        this.onChange(this)
        return
      } else if (live.length >= max) {
        this.logger.warn(`already ${live.length} runs (max ${max}); trigger dropped`)
        return
      }
    }
    this.launch(trigger, source)
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
        const state = this.services.commands.stateAfterPending(id, () => bulb.state)
        void state.then((before) => this.services.journal.snapshot(this.name, id, before))
        return [id, state]
      }),
    )
    this.followLocks()
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

  private launch(trigger: TriggerData, source: TriggerSource): void {
    const run = new AutomationRun(this, trigger, source, this.services.nextRunId())
    this.runs.add(run)
    this.services.journal.started(this.name)
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
      this.launch(next.trigger, next.source)
      return
    }
    if (this.runs.size === 0) {
      this.restoring = this.restore().finally(() => {
        if (this.runs.size === 0) this.services.journal.ended(this.name)
      })
    }
    this.onChange(this)
  }

  /**
   * Puts each bulb back as it was when the automation first got it, unless someone else has it now or took it
   * since (a person's manual change, another automation: theirs is the newer state).
   */
  private async restore(): Promise<void> {
    const snapshot = this.snapshot
    const takenSince = this.takenSince
    this.snapshot = undefined
    this.takenSince = new Map()
    this.stopFollowingLocks?.()
    this.stopFollowingLocks = undefined
    if (!snapshot) return
    const { devices } = this.plan.definition
    const { restoreTimeoutMs } = this.services
    await Promise.all(
      devices.map((id, i) => {
        const state = snapshot.get(id)
        return (
          state &&
          restoreDevice(id, this.deviceLockers[i]!, state, this.name, restoreTimeoutMs, this.logger, takenSince.get(id))
        )
      }),
    )
  }

  /** Notes who else takes one of its bulbs while a restore snapshot exists. */
  private followLocks(): void {
    if (this.stopFollowingLocks) return
    const own = `automation:${this.name}`
    const devices = new Set(this.plan.definition.devices)
    this.stopFollowingLocks = this.services.locks.protocol.on((event) => {
      if (event.type !== 'acquired' || event.lockerGuid === own || !devices.has(event.resource)) return
      if (!this.takenSince.has(event.resource)) this.takenSince.set(event.resource, holderName(event.lockerGuid))
    })
  }
}

/** `automation:party` → `party`, `manual:bath_bulb` → `manual`. */
function holderName(lockerGuid: string): string {
  return lockerGuid.replace(/^automation:/, '').replace(/^manual:.*/, 'manual')
}

/** What fired, for log lines: `mqtt home/door`, `at 2026-12-24T07:00:00+01:00`, `state hall_bulb off → on`. */
function via(trigger: TriggerData): string {
  if ('topic' in trigger) return `mqtt ${trigger.topic}`
  if (trigger.kind === 'state') return `state ${trigger.device} ${trigger.from} → ${trigger.to}`
  return `${trigger.kind} ${trigger.scheduled}${trigger.catch_up ? ' (catching up)' : ''}`
}

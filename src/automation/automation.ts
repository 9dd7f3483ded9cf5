import type { Logger } from 'pino'
import type { Bulb, BulbState } from '../devices/bulb.js'
import { isLockError, type CommitPromise, type Locker, type LockerFactory } from '../lock/index.js'
import type { AutomationDefinition, TriggerDefinition } from './definition.js'
import type { CommandTracker } from './command-tracker.js'
import type { IncomingMessage, MessageHub } from './message-hub.js'
import { restoreCommand } from './restore.js'
import { AutomationRun, type RunHost, type RunOutcome } from './run.js'
import { expressionContext, triggerMismatch, type SharedLookups } from './scope.js'
import type { AutomationState, AutomationStatus } from './status.js'
import type { CompiledStep } from './step-scope.js'

/** What an automation needs from the engine. */
export interface AutomationEnvironment {
  readonly locks: LockerFactory
  readonly devices: ReadonlyMap<string, Bulb>
  readonly hub: MessageHub
  readonly shared: SharedLookups
  readonly commands: CommandTracker
  readonly logger: Logger
  /** Compiles the steps of the automation called `name` for `targets`, or undefined when there is none. */
  compile(name: string, targets: readonly string[]): CompiledStep | undefined
  /** How long putting one bulb back may take before it is given up, ms. */
  readonly restoreTimeoutMs: number
  statusChanged(automation: Automation): void
}

// Lower than any priority a YAML file can sensibly hold: a restore never takes a bulb from anyone.
const RESTORE_PRIORITY = Number.MIN_SAFE_INTEGER

/**
 * One loaded automation: its lock over its devices, its triggers and stops, its runs under its `mode`, and
 * putting the bulbs back (`restore`) when the last run ends.
 */
export class Automation implements RunHost {
  readonly locker: Locker<Bulb | Bulb[]>
  readonly steps: CompiledStep
  readonly hub: MessageHub
  readonly shared: SharedLookups
  readonly commands: CommandTracker
  readonly logger: Logger
  /** The bulbs it was built with: a hot reload that swaps one rebuilds the automation. */
  readonly bulbs: readonly Bulb[]
  private readonly deviceLockers: Locker<Bulb>[]
  private readonly runs = new Set<AutomationRun>()
  private readonly queue: (IncomingMessage | undefined)[] = []
  private readonly subscriptions: (() => void)[] = []
  private snapshot: Map<string, Promise<BulbState>> | undefined
  private lastError: string | undefined
  private restoring: Promise<void> = Promise.resolve()
  private nextRunId = 1
  private disposed = false

  constructor(
    readonly definition: AutomationDefinition,
    private readonly env: AutomationEnvironment,
  ) {
    this.hub = env.hub
    this.shared = env.shared
    this.commands = env.commands
    this.logger = env.logger.child({ automation: definition.name })
    this.bulbs = definition.devices.map((id) => {
      const bulb = env.devices.get(id)
      if (!bulb) throw new Error(`automation ${definition.name}: unknown device '${id}'`)
      return bulb
    })
    const lockOptions = {
      priority: definition.priority,
      ...(definition.lock.ttl === undefined ? {} : { lockTtl: definition.lock.ttl }),
      ...(definition.lock.acquireTimeout === undefined ? {} : { acquireTimeout: definition.lock.acquireTimeout }),
    }
    // One lockerGuid per automation: its parallel-mode runs share the lock (re-entrance) instead of queueing
    // behind each other, and a restore acquires as the same holder.
    const guid = `automation:${definition.name}`
    this.deviceLockers = definition.devices.map((id, i) => env.locks.newLocker(id, this.bulbs[i]!, lockOptions, guid))
    this.locker = (
      this.deviceLockers.length === 1
        ? this.deviceLockers[0]!
        : env.locks.newGroupLocker(this.deviceLockers, lockOptions, guid)
    ) as Locker<Bulb | Bulb[]>
    this.steps = env.compile(definition.name, definition.devices)!
  }

  get name(): string {
    return this.definition.name
  }

  /** Subscribes triggers (when enabled), stops, and the topics its `wait_for` steps listen to. */
  start(): void {
    const { definition, hub } = this
    if (definition.enabled) {
      for (const trigger of definition.trigger) {
        this.subscriptions.push(hub.watch(trigger.topic, (message) => this.onTrigger(trigger, message)))
      }
    }
    for (const stop of definition.stop) {
      this.subscriptions.push(hub.watch(stop.topic, (message) => this.onStop(stop, message)))
    }
    // Subscribed from the start so a message right after a wait_for begins is not missed while the broker
    // confirms a new subscription, and so `last['topic']` in an expression has something to read.
    for (const topic of watchedTopics(definition)) this.subscriptions.push(hub.watch(topic, () => {}))
  }

  /** Starts a run (or queues it, or ignores it) as `mode` says. */
  fire(message: IncomingMessage | undefined, via: string): void {
    if (this.disposed) return
    const { mode, max } = this.definition
    this.logger.info({ via, topic: message?.topic }, `triggered by ${via}`)
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
        this.queue.push(message)
        this.env.statusChanged(this)
        return
      } else if (live.length >= max) {
        this.logger.warn(`already ${live.length} runs (max ${max}); trigger dropped`)
        return
      }
    }
    this.launch(message)
  }

  /** Cancels every run and queued trigger; resolves once they are over and the bulbs restored (if configured). */
  async stopRuns(reason: string): Promise<void> {
    this.queue.length = 0
    if (this.runs.size === 0) {
      this.logger.debug(`${reason}: not running; nothing to stop`)
      this.env.statusChanged(this)
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
    if (!this.definition.devices.includes(deviceId)) return false
    for (const run of this.runs) if (run.state === 'running') return true
    return false
  }

  // --- RunHost ----------------------------------------------------------------------------------------

  replacement(name: string): CompiledStep | undefined {
    return this.env.compile(name, this.definition.devices)
  }

  snapshotOnce(): void {
    if (!this.definition.restore || this.snapshot) return
    // After the commands already on their way (the preempted automation's last one): the snapshot is the state
    // that automation left behind, not the one before its last step.
    this.snapshot = new Map(
      this.bulbs.map((bulb, i) => {
        const id = this.definition.devices[i]!
        return [id, this.env.commands.stateAfterPending(id, () => bulb.state)]
      }),
    )
  }

  runChanged(): void {
    this.env.statusChanged(this)
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

  private launch(message: IncomingMessage | undefined): void {
    const run = new AutomationRun(this, message, this.nextRunId++)
    this.runs.add(run)
    this.lastError = undefined
    void run.finished.then((outcome) => this.ended(run, outcome))
    run.start()
    this.env.statusChanged(this)
  }

  private ended(run: AutomationRun, outcome: RunOutcome): void {
    this.runs.delete(run)
    const log = this.logger.child({ run: run.id })
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
      if (outcome.kind === 'failed') this.env.statusChanged(this)
      this.launch(this.queue.shift())
      return
    }
    if (this.runs.size === 0) this.restoring = this.restore()
    this.env.statusChanged(this)
  }

  /** Puts each bulb back as it was when the automation first got it, unless someone else has it now. */
  private async restore(): Promise<void> {
    const snapshot = this.snapshot
    this.snapshot = undefined
    if (!snapshot) return
    await Promise.all(
      this.definition.devices.map((id, i) => this.restoreDevice(id, this.deviceLockers[i]!, snapshot.get(id))),
    )
  }

  private async restoreDevice(id: string, locker: Locker<Bulb>, snapshot: Promise<BulbState> | undefined) {
    if (!snapshot) return
    const name = this.name
    const limit = this.env.restoreTimeoutMs
    let commit: CommitPromise<void, Bulb> | undefined
    let abandoned = false
    let timer: ReturnType<typeof setTimeout> | undefined
    // A hung bulb must not hold up a shutdown (the daemon has 5 s for it): give up on the restore instead.
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), limit)
      timer.unref?.()
    })
    const attempt = (async () => {
      const state = await snapshot
      if (abandoned) return
      commit = locker.promise(
        function* restoreTransaction(bulb, ctx) {
          yield bulb.setState(restoreCommand(state), { holder: name, token: ctx.token })
        },
        { priority: RESTORE_PRIORITY, maxAcquireAttempts: 1, acquireTimeout: 0 },
      )
      await commit
    })()
    try {
      if ((await Promise.race([attempt, deadline])) === 'late') {
        abandoned = true
        commit?.cancel('restore took too long')
        this.logger.warn({ device: id }, `gave up restoring ${id}: no answer within ${limit} ms`)
        attempt.catch(() => {})
        return
      }
      this.logger.info({ device: id }, `restored ${id}`)
    } catch (error) {
      if (isLockError(error, 'ALREADY_LOCKED') || isLockError(error, 'ACQUIRE_TIMEOUT')) {
        this.logger.info({ device: id }, `not restoring ${id}: another automation has it`)
      } else {
        this.logger.warn({ device: id, err: error }, `could not restore ${id}: ${String(error)}`)
      }
    } finally {
      clearTimeout(timer)
    }
  }

  private onTrigger(trigger: TriggerDefinition, message: IncomingMessage): void {
    if (this.matches(trigger, message, 'trigger')) this.fire(message, `mqtt ${message.topic}`)
  }

  private onStop(stop: TriggerDefinition, message: IncomingMessage): void {
    if (this.matches(stop, message, 'stop')) void this.stopRuns(`stop on ${message.topic}`)
  }

  private matches(trigger: TriggerDefinition, message: IncomingMessage, role: string): boolean {
    let mismatch: string | undefined
    try {
      mismatch = triggerMismatch(trigger, message, (m) => expressionContext(this.name, { trigger: m }, this.shared))
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

/** Topics of `wait_for` steps, and the ones expressions read as `last['topic']` or `last_json['topic']`. */
function watchedTopics(definition: AutomationDefinition): Set<string> {
  const topics = new Set<string>()
  const visit = (steps: AutomationDefinition['steps']): void => {
    for (const step of steps) {
      if (step.kind === 'wait_for' && step.trigger) topics.add(step.trigger.topic)
      else if (step.kind === 'repeat') visit(step.steps)
      else if (step.kind === 'if') visit([...step.then, ...step.else])
      else if (step.kind === 'choose') visit([...step.options.flatMap((option) => option.steps), ...step.default])
      else if (step.kind === 'parallel') visit(step.branches.flatMap((branch) => branch.steps))
    }
  }
  visit(definition.steps)
  for (const match of JSON.stringify(definition).matchAll(LAST_TOPIC)) topics.add(match[2]!)
  return topics
}

/** `last['a/b']` or `last_json["a/b"]` as they appear in the JSON text of a definition (quotes escaped or not). */
const LAST_TOPIC = /\blast(?:_json)?\[\s*(\\?['"])([^'"\\]+)\1\s*\]/g

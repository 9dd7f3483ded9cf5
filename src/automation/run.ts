import type { Logger } from 'pino'
import type { Bulb } from '../devices/bulb.js'
import {
  isLockError,
  type CommitPromise,
  type Locker,
  type Transaction,
  type TransactionContext,
} from '../lock/index.js'
import type { AutomationDefinition } from './definition.js'
import type { CommandTracker } from './command-tracker.js'
import type { IncomingMessage, MessageHub } from './message-hub.js'
import { expressionContext, type ScopeVariables, type SharedLookups } from './scope.js'
import type { CompiledStep, StepScope } from './step-scope.js'

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

/** What a run needs from its automation. */
export interface RunHost {
  readonly definition: AutomationDefinition
  readonly locker: Locker<Bulb | Bulb[]>
  readonly steps: CompiledStep
  readonly hub: MessageHub
  readonly shared: SharedLookups
  readonly commands: CommandTracker
  readonly logger: Logger
  /** The steps of the automation named by `on_preempt: { replace }`, compiled for this one's devices. */
  replacement(name: string): CompiledStep | undefined
  /** Takes the `restore` snapshot if the automation has none yet (called as a run first gets the lock). */
  snapshotOnce(): void
  runChanged(run: AutomationRun): void
}

/**
 * One run of an automation: its steps as one transaction under the automation's lock, steered by
 * `on_preempt` when the lock is lost.
 */
export class AutomationRun {
  state: RunState = 'waiting'
  /** Settles (never rejects) when the run is over. */
  readonly finished: Promise<RunOutcome>
  private settle!: (outcome: RunOutcome) => void
  private commit: CommitPromise<void, Bulb | Bulb[]> | undefined
  private cancelReason: string | undefined
  private readonly logger: Logger

  constructor(
    private readonly host: RunHost,
    private readonly trigger: IncomingMessage | undefined,
    readonly id: number,
  ) {
    this.logger = host.logger.child({ run: id })
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
    const definition = this.host.definition
    const commit = this.host.locker.promise(this.transaction(this.host.steps))
    this.commit = commit
    commit.recover((ops, error) => {
      this.setState('suspended')
      const policy = definition.onPreempt
      const decision = typeof policy === 'object' ? `replace with ${policy.replace}` : policy
      this.logger.info({ code: error.code }, `lost the lock (${error.message}); on_preempt: ${decision}`)
      if (policy === 'resume') return ops.resume()
      if (policy === 'restart') return ops.restart()
      if (policy === 'abort') return ops.reject(error)
      const steps = this.host.replacement(policy.replace)
      if (!steps) return ops.reject(new Error(`on_preempt: automation '${policy.replace}' is not loaded`))
      return ops.replace(this.transaction(steps))
    })
    commit.then(
      () => this.end({ kind: 'completed' }),
      (error: unknown) => {
        const err = error instanceof Error ? error : new Error(String(error))
        if (isLockError(error, 'CANCELLED')) this.end({ kind: 'stopped' })
        else if (isLockError(error) && error.recoverable) this.end({ kind: 'aborted', error: err })
        else this.end({ kind: 'failed', error: err })
      },
    )
  }

  /** True once `cancel` was called (the run may take a few microtasks more to be over). */
  get cancelled(): boolean {
    return this.cancelReason !== undefined
  }

  /** Ends the run wherever it is (waiting, running or suspended). */
  cancel(reason: string): void {
    this.cancelReason = reason
    this.commit?.cancel(reason)
  }

  private end(outcome: RunOutcome): void {
    // No runChanged here: the automation reports its state once it has dealt with the end (a queued run may start).
    this.state = 'done'
    this.settle(outcome)
  }

  private transaction(steps: CompiledStep): Transaction<Bulb | Bulb[], void> {
    const devices = this.host.definition.devices
    const begin = (resource: Bulb | Bulb[], ctx: TransactionContext): StepScope => {
      const handles = Array.isArray(resource) ? resource : [resource]
      const bulbs = new Map(devices.map((id, i) => [id, handles[i]!]))
      this.host.snapshotOnce()
      return this.scope(ctx, bulbs, false, { trigger: this.trigger })
    }
    return function* automationTransaction(resource, ctx) {
      yield* steps(begin(resource, ctx))
    }
  }

  private scope(
    ctx: TransactionContext,
    bulbs: ReadonlyMap<string, Bulb>,
    inBranch: boolean,
    vars: ScopeVariables,
  ): StepScope {
    const { definition, hub, shared, commands } = this.host
    const scope: StepScope = {
      name: definition.name,
      ctx,
      bulbs,
      hub,
      commands,
      logger: this.logger,
      onError: definition.onError,
      vars,
      inBranch,
      context: () => expressionContext(definition.name, vars, shared),
      markRunning: () => this.setState('running'),
      fork: () => this.scope(ctx, bulbs, true, { ...vars }),
    }
    return scope
  }

  private setState(state: RunState): void {
    if (this.state === state || this.state === 'done') return
    const was = this.state
    this.state = state
    if (state === 'running') this.logger.info(was === 'suspended' ? 'got the lock back' : 'got the lock')
    this.host.runChanged(this)
  }
}

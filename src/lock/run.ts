import { AsyncLocalStorage } from 'node:async_hooks'
import { CancelSignal } from './cancel-signal.js'
import { LockError } from './errors.js'
import type { CallFence } from './fence.js'
import { normalizeOptions, resolveOptions, type AcquireOptions, type ResolvedOptions } from './options.js'
import type { AcquireReceiver, AcquireRequest, Lease, LockingProtocol, WaitingTicket } from './protocol.js'
import { isRecoveryOp, recoveryOps, type RecoverHandler, type RecoveryOp } from './recovery.js'
import type { Transaction, TransactionContext } from './transaction.js'

/** What a run needs from its locker. */
export interface RunTarget<R> {
  readonly protocol: LockingProtocol
  readonly resourceGuids: readonly string[]
  readonly lockerGuid: string
  readonly baseOptions: AcquireOptions
  /** `baseOptions` resolved once, for the common call without per-transaction options. */
  readonly resolvedBase: ResolvedOptions
  /** The request of a run on `resolvedBase`, without a signal: shared by the locker's runs (see `acquire`). */
  readonly request: AcquireRequest
  /** The resource as the transaction sees it: every call through it asks `issue` for its fence first. */
  handle(issue: () => CallFence): R
}

/**
 * The lease the code running now was started under: each transaction step runs in its lease's context, and a
 * `.then` chain or timer the step creates inherits it (Node's async context). So a call knows its lease however late
 * it runs. On Node 24+ this is an AsyncContextFrame switch per step, without promise hooks.
 */
const callContext = new AsyncLocalStorage<LeaseFence>()

/** The fence of one lease of one run: current while that lease is valid and still the run's. */
class LeaseFence implements CallFence {
  private ended = false
  private listeners: (() => void)[] | undefined

  /** Computed on first use: a protocol may build a lease's token record lazily (the memory protocol does). */
  private tokenValue: number | undefined

  constructor(
    readonly run: TransactionRun<unknown, unknown>,
    readonly lease: Lease,
  ) {}

  get token(): number {
    return (this.tokenValue ??= this.run.tokenOf(this.lease))
  }

  get holder(): string {
    return this.lease.lockerGuid
  }

  get tokens(): Readonly<Record<string, number>> {
    return this.lease.tokens
  }

  get current(): boolean {
    return !this.ended && this.lease.valid
  }

  refusal(): LockError {
    return this.run.refusal(this)
  }

  onEnd(listener: () => void): () => void {
    if (this.ended || !this.lease.valid) {
      listener()
      return () => {}
    }
    ;(this.listeners ??= []).push(listener)
    return () => {
      const index = this.listeners?.indexOf(listener) ?? -1
      if (index >= 0) this.listeners!.splice(index, 1)
    }
  }

  end(): void {
    if (this.ended) return
    this.ended = true
    const listeners = this.listeners
    this.listeners = undefined
    if (listeners) for (const listener of listeners) listener()
  }
}

type State = 'acquiring' | 'running' | 'suspended' | 'done'

interface Reactions {
  fulfilled(value: unknown): void
  rejected(error: unknown): void
}

/**
 * A class, not an object literal: V8 tracks object literals per allocation site and, once it has seen a site's
 * objects survive a scavenge, allocates that site's objects straight in the old generation. A pretenured pair
 * then kept its young closures, and through them the whole finished run, alive through every scavenge until the
 * next full collection, so most processes promoted nearly everything they allocated (bench/RESULTS.md, lock).
 */
class GeneratorReactions implements Reactions {
  fulfilled: (value: unknown) => void = ignore
  rejected: (error: unknown) => void = ignore
}

function ignore(): void {}

interface Settled {
  ok: boolean
  value: unknown
}

const enum Next {
  Start,
  Resume,
}

/**
 * What a run needs only off its usual path: per-transaction options, a lost lock and its recovery, cancellation,
 * the context's signal, a protocol without `acquireFor`. Kept apart, made when first needed: a queue thousands deep
 * keeps every waiting run alive, and what each one holds is what every scavenge copies (bench/RESULTS.md, lock).
 */
class Seldom {
  /** Per-transaction options, then each recovery op's, in order; merged over the locker's base options. */
  optionLayers: AcquireOptions[] | undefined = undefined
  /** The request this run's own options make, when they are not the locker's. */
  ownRequest: AcquireRequest | undefined = undefined
  /** Withdraws a waiting request from a protocol without `acquireFor` (Redis). */
  cancelSignal: CancelSignal | undefined = undefined
  controller: AbortController | undefined = undefined
  drainWaiters: (() => void)[] | undefined = undefined
  /** The result of the last yield, kept while suspended so `resume` can hand it to the generator. */
  parked: Settled | undefined = undefined
  cancelRequested: LockError | undefined = undefined
  /** Why the lock was last lost, for the fence's message. */
  lastLoss: LockError | undefined = undefined
  stepInContext: ((ok: boolean, value: unknown) => void) | undefined = undefined
}

/**
 * Runs one transaction: acquires, steps the generator while the lease holds, and on loss asks the recover
 * handler what to do. Written as callbacks rather than async functions: each `await` would cost the hot path
 * (one yield of a resolved promise) extra microtask turns.
 */
export class TransactionRun<R, T> implements TransactionContext, AcquireReceiver {
  private state: State = 'acquiring'
  private transaction: Transaction<R, T>
  private generator: Generator<unknown, T, unknown> | undefined
  private lease: Lease | undefined
  private options: ResolvedOptions
  private handler: RecoverHandler<R, T> | undefined
  /** Withdraws the request while it waits, from a protocol with `acquireFor` (memory). */
  private ticket: WaitingTicket | undefined
  private seldomState: Seldom | undefined
  /**
   * Reactions to the current generator's yields, made once per generator rather than per yield. An abandoned
   * generator's late settlement lands in its own, stale pair, which `settle` recognises and ignores.
   */
  private reactions: Reactions | undefined
  private nextAfterGrant = Next.Start
  /*
   * The callbacks and the resource handle below are made when first needed, not per run: a queue thousands deep
   * keeps every waiting run alive, and what each one holds is what the garbage collector copies.
   */
  private onLeaseLost: ((error: LockError) => Promise<void> | undefined) | undefined
  /**
   * Yielded promises not yet settled, an abandoned generator's included: while any is in flight the
   * transaction may still be touching the resource.
   */
  private inFlight = 0
  private executing = false
  private resource: R | undefined
  private attemptCount = 0
  /** The fence of the current lease; calls made in its context are issued under it. */
  private fence: LeaseFence | undefined
  /** The fence of the first lease: calls made outside any of this run's lease contexts are issued under it. */
  private firstFence: LeaseFence | undefined

  constructor(
    private readonly target: RunTarget<R>,
    transaction: Transaction<R, T>,
    options: AcquireOptions | undefined,
    private readonly resolve: (value: T) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.transaction = transaction
    if (options === undefined) {
      this.options = target.resolvedBase
    } else {
      const layers = (this.seldom.optionLayers = [normalizeOptions(options)])
      this.options = resolveOptions(target.baseOptions, ...layers)
    }
    const signal = this.options.signal
    if (signal) {
      if (signal.aborted) queueMicrotask(() => this.cancel(signal.reason))
      else signal.addEventListener('abort', () => this.cancel(signal.reason), { once: true })
    }
  }

  private get seldom(): Seldom {
    return (this.seldomState ??= new Seldom())
  }

  setHandler(handler: RecoverHandler<R, T>): void {
    if (typeof handler !== 'function') throw new TypeError('recover() needs a handler function')
    this.handler = handler
  }

  start(): void {
    this.acquire(Next.Start)
  }

  /** Ends the transaction wherever it is: waiting, running or suspended. Rejects with `CANCELLED`. */
  cancel(reason?: unknown): void {
    if (this.state === 'done') return
    const error =
      reason instanceof LockError
        ? reason
        : new LockError(
            'CANCELLED',
            `${this.target.resourceGuids.join(', ')}: transaction cancelled${reason === undefined ? '' : `: ${String(reason)}`}`,
            this.target.resourceGuids,
          )
    if (this.executing) {
      // The generator is running this very moment (it cancelled itself): stop it at its next yield.
      this.seldom.cancelRequested = error
      return
    }
    this.withdraw(error)
    this.fail(error, true)
  }

  // --- TransactionContext ---------------------------------------------------------------------------

  get signal(): AbortSignal {
    const seldom = this.seldom
    const controller = (seldom.controller ??= new AbortController())
    // Loss listeners run a microtask after the loss; reading the signal must not lag behind the lease.
    if (!controller.signal.aborted && (this.state === 'done' || !this.lease?.valid)) {
      controller.abort(this.lease?.lossReason ?? seldom.lastLoss ?? seldom.cancelRequested)
    }
    return controller.signal
  }

  sleep(ms: number): Promise<boolean> {
    const signal = this.signal
    if (signal.aborted) return Promise.resolve(false)
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(timer)
        resolve(false)
      }
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort)
        resolve(true)
      }, ms)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  get tokens(): Readonly<Record<string, number>> {
    return this.lease?.tokens ?? {}
  }

  get token(): number {
    return this.tokenOf(this.lease)
  }

  /** The fencing token of `lease` for this run's resources (the largest, for a composite lock). */
  tokenOf(lease: Lease | undefined): number {
    const tokens = lease?.tokens
    if (!tokens) return 0
    let max = 0
    for (const resource of this.target.resourceGuids) max = Math.max(max, tokens[resource] ?? 0)
    return max
  }

  get lockerGuid(): string {
    return this.target.lockerGuid
  }

  get priority(): number {
    return this.options.priority
  }

  get attempt(): number {
    return this.attemptCount
  }

  // --- acquiring --------------------------------------------------------------------------------------

  private acquire(next: Next): void {
    this.state = 'acquiring'
    this.nextAfterGrant = next
    const protocol = this.target.protocol
    // A waiting transaction keeps its request alive: with `acquireFor` it needs no signal (a ticket withdraws it), and
    // a run on its locker's options shares the locker's. At 10,000 waiting, what each one holds is what every
    // scavenge copies (bench/RESULTS.md, lock).
    const plain =
      this.options === this.target.resolvedBase
        ? this.target.request
        : (this.seldom.ownRequest ??= requestOf(this.target, this.options))
    let granted: Lease | Promise<Lease> | undefined
    try {
      granted = protocol.acquireFor
        ? protocol.acquireFor(plain, this)
        : protocol.acquire({ ...plain, signal: (this.seldom.cancelSignal ??= new CancelSignal()) })
    } catch (error) {
      this.fail(error, true)
      return
    }
    if (granted instanceof Promise) {
      granted.then(
        (lease) => this.granted(lease),
        (error: unknown) => this.refused(error),
      )
    } else if (granted) {
      this.begin(granted, next)
    }
  }

  /** AcquireReceiver: the request waits; `ticket` withdraws it. */
  waiting(ticket: WaitingTicket): void {
    this.ticket = ticket
  }

  /** AcquireReceiver: the lock was granted after a wait. */
  granted(lease: Lease): void {
    this.ticket = undefined
    this.begin(lease, this.nextAfterGrant)
  }

  /** AcquireReceiver: the lock was not granted (timeout, attempts used up, cancelled, protocol closed). */
  refused(error: unknown): void {
    this.ticket = undefined
    if (this.state !== 'done') this.fail(error, true)
  }

  /** Takes a waiting request back from the protocol: a ticket's, or the signal's of a protocol without tickets. */
  private withdraw(error: LockError): void {
    const ticket = this.ticket
    this.ticket = undefined
    if (ticket) ticket.withdraw()
    else this.seldomState?.cancelSignal?.abort(error)
  }

  private begin(lease: Lease, next: Next): void {
    if (this.state === 'done') {
      void lease.release()
      return
    }
    this.lease = lease
    this.fence?.end()
    this.fence = new LeaseFence(this as TransactionRun<unknown, unknown>, lease)
    this.firstFence ??= this.fence
    this.attemptCount++
    if (this.seldomState) this.seldomState.controller = undefined
    this.state = 'running'
    lease.onLost(
      (this.onLeaseLost ??= (error) => {
        if (this.lease?.lossReason !== error) return undefined
        this.lost(this.lease, error)
        return this.drained()
      }),
    )
    if (!lease.valid) return // lost before we got to it: `lost` takes over
    const parked = this.seldomState?.parked
    if (parked) this.seldomState!.parked = undefined
    if (next === Next.Start || !this.generator) {
      this.resource ??= this.target.handle(() => this.callFence())
      this.generator = this.transaction(this.resource, this)
      this.reactions = this.makeReactions()
      this.advance(true, undefined)
    } else if (parked) {
      this.advance(parked.ok, parked.value)
    }
    // else: the last yield is still in flight; `settle` continues when it lands.
  }

  // --- stepping ---------------------------------------------------------------------------------------

  /** Steps the generator in the current lease's context: what the step starts is issued under that lease. */
  private advance(ok: boolean, value: unknown): void {
    const fence = this.fence!
    // Under the first lease, code without this run's context can only have been started under that lease: no context
    // needed, the hot path pays nothing. Once the run has a later lease, every step runs in its lease's context (a
    // yield's settlement usually runs in it already: the context its `.then` was registered in).
    if (fence === this.firstFence || callContext.getStore() === fence) this.step(ok, value)
    else callContext.run(fence, (this.seldom.stepInContext ??= (ok, value) => this.step(ok, value)), ok, value)
  }

  private step(ok: boolean, value: unknown): void {
    const generator = this.generator!
    for (;;) {
      if (!this.lease?.valid || this.state !== 'running') {
        this.seldom.parked = { ok, value }
        return
      }
      let step: IteratorResult<unknown, T>
      this.executing = true
      try {
        step = ok ? generator.next(value) : generator.throw(value)
      } catch (error) {
        this.executing = false
        this.fail(error, false)
        return
      }
      this.executing = false
      const cancelRequested = this.seldomState?.cancelRequested
      if (cancelRequested) {
        this.cancel(cancelRequested)
        return
      }
      if (step.done) {
        this.succeed(step.value)
        return
      }
      const yielded = step.value
      if (isThenable(yielded)) {
        this.inFlight++
        yielded.then(this.reactions!.fulfilled, this.reactions!.rejected)
        return
      }
      ok = true
      value = yielded
    }
  }

  private makeReactions(): Reactions {
    const reactions = new GeneratorReactions()
    reactions.fulfilled = (value) => this.settle(reactions, true, value)
    reactions.rejected = (error) => this.settle(reactions, false, error)
    return reactions
  }

  /** Resolves once no yielded promise of this transaction is in flight (at once when none is). */
  private drained(): Promise<void> | undefined {
    if (this.inFlight === 0) return undefined
    const seldom = this.seldom
    return new Promise((resolve) => (seldom.drainWaiters ??= []).push(resolve))
  }

  private landed(): void {
    if (--this.inFlight > 0) return
    const seldom = this.seldomState
    const waiters = seldom?.drainWaiters
    if (!waiters) return
    seldom!.drainWaiters = undefined
    waiters.forEach((resolve) => resolve())
  }

  private settle(reactions: Reactions, ok: boolean, value: unknown): void {
    this.landed()
    if (reactions !== this.reactions || this.state === 'done') return
    if (this.state === 'running' && this.lease?.valid) this.advance(ok, value)
    else this.seldom.parked = { ok, value }
  }

  // --- losing the lock and recovering -----------------------------------------------------------------

  private lost(lease: Lease, error: LockError): void {
    if (lease !== this.lease || this.state === 'done') return
    this.state = 'suspended'
    const seldom = this.seldom
    seldom.lastLoss = error
    this.fence?.end()
    seldom.controller?.abort(error)
    const handler = this.handler
    if (!handler) {
      this.fail(error, true)
      return
    }
    let decision: RecoveryOp<R, T> | PromiseLike<RecoveryOp<R, T>>
    try {
      decision = handler(recoveryOps, error)
    } catch (handlerError) {
      this.fail(handlerError, true)
      return
    }
    if (isThenable(decision)) {
      decision.then(
        (op) => this.apply(op, error),
        (handlerError: unknown) => this.fail(handlerError, true),
      )
    } else {
      this.apply(decision, error)
    }
  }

  private apply(op: RecoveryOp<R, T>, error: LockError): void {
    if (this.state === 'done') return
    if (!isRecoveryOp<R, T>(op)) {
      this.fail(
        new TypeError(
          'a recover handler must return ops.resume(), ops.restart(), ops.replace(tx) or ops.reject() ' +
            `(got ${typeof op === 'object' ? JSON.stringify(op) : String(op)}) after ${error.code}`,
        ),
        true,
      )
      return
    }
    if (op.kind === 'reject') {
      this.fail(op.error === undefined ? error : op.error, true)
      return
    }
    if (op.options) {
      const seldom = this.seldom
      const layers = (seldom.optionLayers ??= [])
      layers.push(normalizeOptions(op.options))
      this.options = resolveOptions(this.target.baseOptions, ...layers)
      seldom.ownRequest = undefined
    }
    if (op.kind === 'resume') {
      this.acquire(Next.Resume)
      return
    }
    this.closeGenerator()
    if (op.kind === 'replace') this.transaction = op.transaction
    this.acquire(Next.Start)
  }

  // --- ending -----------------------------------------------------------------------------------------

  private succeed(value: T): void {
    this.finish(false)
    const released = this.releaseLease()
    if (released) released.then(() => this.resolve(value), this.reject)
    else this.resolve(value)
  }

  /** Rejects the run; `abandon` closes a generator that did not finish by itself. */
  private fail(error: unknown, abandon: boolean): void {
    if (this.state === 'done') return
    this.finish(abandon)
    const released = this.releaseLease()
    if (released)
      released.then(
        () => this.reject(error),
        () => this.reject(error),
      )
    else this.reject(error)
  }

  /** Marks the run done; `abandon` closes a generator that did not finish by itself. */
  private finish(abandon: boolean): void {
    this.state = 'done'
    this.fence?.end()
    this.seldomState?.controller?.abort(new LockError('CANCELLED', 'transaction ended', this.target.resourceGuids))
    if (abandon) this.closeGenerator()
    // What only a running transaction needs goes now, while the promise (and so this run) may be held for long.
    // A run that waited in a queue is usually in the old generation by the time it ends, and each young object it
    // still pointed to would be copied by every scavenge until the next full collection: with 10,000 waiters that
    // was half the time the queue took (bench/RESULTS.md, lock).
    this.generator = undefined
    this.reactions = undefined
    this.resource = undefined
    this.onLeaseLost = undefined
    const seldom = this.seldomState
    if (seldom) {
      seldom.parked = undefined
      seldom.stepInContext = undefined
    }
  }

  private releaseLease(): Promise<void> | undefined {
    const lease = this.lease
    this.lease = undefined
    const released = lease?.release()
    return released instanceof Promise ? released : undefined
  }

  /** Closes an abandoned generator so its `finally` blocks run (without the lock: they must not need it). */
  private closeGenerator(): void {
    const generator = this.generator
    this.generator = undefined
    this.reactions = undefined
    if (this.seldomState) this.seldomState.parked = undefined
    if (!generator) return
    try {
      // A `finally` that yields would otherwise leave the generator half closed.
      for (let step = generator.return(undefined as T), guard = 0; !step.done && guard < 1000; guard++) {
        step = generator.return(undefined as T)
      }
    } catch {
      // An error thrown by a `finally` block of an abandoned transaction has nowhere to go: the
      // transaction's outcome is already decided by the recovery op or cancellation.
    }
  }

  /**
   * The fence of a call made through the handle now: the lease the running code was started under (see
   * `callContext`). Code running outside every lease context of this run (started under the first lease, or outside
   * the transaction's steps, like an event listener) is taken as started under the first lease: after a recovery it is
   * refused, the safe side. Throws `FENCED` when that lease is no longer current.
   */
  private callFence(): CallFence {
    const started = callContext.getStore()
    const fence = started?.run === this ? started : this.firstFence
    if (fence?.current && this.state === 'running') return fence
    throw this.refusal(fence)
  }

  /** Why a call under `fence` does not reach the resource. */
  refusal(fence: LeaseFence | undefined): LockError {
    const reason =
      fence?.lease.lossReason ??
      (fence && fence !== this.fence
        ? undefined
        : (this.lease?.lossReason ?? this.seldomState?.lastLoss ?? this.seldomState?.cancelRequested))
    const what = fence
      ? `the lock this call was issued under (token ${fence.token})`
      : 'the lock this handle was issued under'
    return new LockError(
      'FENCED',
      `${this.target.resourceGuids.join(', ')}: ${what} is ` +
        (reason ? `lost (${reason.code})` : 'released') +
        '; the call did not reach the resource',
      this.target.resourceGuids,
    )
  }
}

/** What a run of `target` on `options` asks its protocol for (no signal: `acquire` adds one where needed). */
export function requestOf(
  target: Pick<RunTarget<unknown>, 'resourceGuids' | 'lockerGuid'>,
  options: ResolvedOptions,
): AcquireRequest {
  return {
    resources: target.resourceGuids,
    lockerGuid: target.lockerGuid,
    priority: options.priority,
    lockTtl: options.lockTtl,
    acquireTimeout: options.acquireTimeout,
    maxAcquireAttempts: options.maxAcquireAttempts,
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

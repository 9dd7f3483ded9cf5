/* eslint-disable @typescript-eslint/no-explicit-any -- alwaysResume/alwaysRestart accept a CommitPromise of any type */
import type { RecoverHandler } from './recovery.js'

/**
 * The promise of a transaction's result, with `.recover()` for a lock lost mid-way. `.then()`, `.catch()` and
 * `.finally()` return CommitPromises too, so the seed's `.then(...).recover(...)` chains work; they all steer
 * the same transaction.
 *
 * @example
 * securityLock.promise(alarmTransaction)
 *   .then((status) => console.log('Alarm off, bulb status: ' + status))
 *   .recover((ops) => ops.restart())
 *   .catch((err) => console.error('Somebody broke the bulb!!!', err))
 */
export interface CommitPromise<T, R = unknown> extends Promise<T> {
  /** Sets what to do when the lock is lost after acquisition (the last handler set wins). Returns this promise. */
  recover(handler: RecoverHandler<R, T>): this
  /** Ends the transaction now, waiting, running or suspended; it rejects with a `CANCELLED` LockError. */
  cancel(reason?: unknown): void
  then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): CommitPromise<A | B, R>
  catch<B = never>(onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): CommitPromise<T | B, R>
  finally(onfinally?: (() => void) | null): CommitPromise<T, R>
}

/** The part of a run a CommitPromise steers. */
export interface Steerable<R, T> {
  setHandler(handler: RecoverHandler<R, T>): void
  cancel(reason?: unknown): void
}

const RUN = Symbol('genlock.run')

type Decorated = Promise<unknown> & { [RUN]: Steerable<unknown, unknown> }

// A native promise with three own methods rather than a Promise subclass: `await` takes V8's fast path for
// native promises (a subclass instance is awaited through its `then`, costing extra microtask turns and
// allocations per transaction). `catch` and `finally` call `this.then`, so they come back decorated too.
function then(this: Decorated, onfulfilled?: unknown, onrejected?: unknown): unknown {
  const next = Promise.prototype.then.call(this, onfulfilled as never, onrejected as never)
  return decorate(next, this[RUN])
}

function recover(this: Decorated, handler: RecoverHandler<unknown, unknown>): unknown {
  this[RUN].setHandler(handler)
  return this
}

function cancel(this: Decorated, reason?: unknown): void {
  this[RUN].cancel(reason)
}

export function decorate<T, R>(promise: Promise<T>, run: Steerable<R, T>): CommitPromise<T, R> {
  const decorated = promise as unknown as Decorated & Record<string, unknown>
  decorated[RUN] = run as Steerable<unknown, unknown>
  decorated.then = then as never
  decorated.recover = recover
  decorated.cancel = cancel
  return decorated as unknown as CommitPromise<T, R>
}

/** Always resume `promise`'s transaction after a lost lock, until it completes. Returns `promise`. */
export function alwaysResume<P extends CommitPromise<any, any>>(promise: P): P {
  return promise.recover((ops) => ops.resume())
}

/** Always restart `promise`'s transaction after a lost lock, until it completes. Returns `promise`. */
export function alwaysRestart<P extends CommitPromise<any, any>>(promise: P): P {
  return promise.recover((ops) => ops.restart())
}

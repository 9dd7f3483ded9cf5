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

interface Steered {
  [RUN]: Steerable<unknown, unknown>
}

/**
 * The methods of a CommitPromise, on a prototype that inherits Promise.prototype. A CommitPromise is a native
 * promise given this prototype rather than an instance of a Promise subclass: its `constructor` is still Promise,
 * so `await` takes a native promise's fast path instead of calling `then` through a thenable job with a
 * subclass-constructed promise per await (several extra objects and microtask turns per transaction).
 */
const commitPrototype = Object.create(Promise.prototype, {
  then: {
    value: function then(this: Promise<unknown> & Steered, onfulfilled?: unknown, onrejected?: unknown) {
      const next = Promise.prototype.then.call(this, onfulfilled as never, onrejected as never) as Promise<unknown>
      return steer(next, this[RUN])
    },
    writable: true,
    configurable: true,
  },
  recover: {
    value: function recover(this: Steered, handler: RecoverHandler<unknown, unknown>) {
      this[RUN].setHandler(handler)
      return this
    },
    writable: true,
    configurable: true,
  },
  cancel: {
    value: function cancel(this: Steered, reason?: unknown) {
      this[RUN].cancel(reason)
    },
    writable: true,
    configurable: true,
  },
}) as object

function steer<P extends Promise<unknown>>(promise: P, run: Steerable<unknown, unknown>): P & Steered {
  Object.setPrototypeOf(promise, commitPrototype)
  ;(promise as P & Steered)[RUN] = run
  return promise as P & Steered
}

/** Makes `promise`, a native promise of the run's result, the CommitPromise that steers `run`. */
export function commitPromiseOf<T, R>(promise: Promise<T>, run: Steerable<R, T>): CommitPromise<T, R> {
  return steer(promise, run as Steerable<unknown, unknown>) as unknown as CommitPromise<T, R>
}

/** Always resume `promise`'s transaction after a lost lock, until it completes. Returns `promise`. */
export function alwaysResume<P extends CommitPromise<any, any>>(promise: P): P {
  return promise.recover((ops) => ops.resume())
}

/** Always restart `promise`'s transaction after a lost lock, until it completes. Returns `promise`. */
export function alwaysRestart<P extends CommitPromise<any, any>>(promise: P): P {
  return promise.recover((ops) => ops.restart())
}

import type { LockError } from './errors.js'
import type { AcquireOptions } from './options.js'
import type { Transaction } from './transaction.js'

/** The decision a recover handler returns. Make one with the `RecoveryOps` it was given. */
export type RecoveryOp<R = unknown, T = unknown> =
  | { readonly kind: 'resume'; readonly options: AcquireOptions | undefined }
  | { readonly kind: 'restart'; readonly options: AcquireOptions | undefined }
  | { readonly kind: 'replace'; readonly transaction: Transaction<R, T>; readonly options: AcquireOptions | undefined }
  | { readonly kind: 'reject'; readonly error: unknown }

/**
 * What a recover handler may do about a lost lock. Every op but `reject` waits to re-acquire the lock, with the
 * previous options unless new ones are given (they override per field).
 */
export interface RecoveryOps<R = unknown, T = unknown> {
  /** Re-acquire, then continue the same generator from its last `yield`, with that yield's result. */
  resume(options?: AcquireOptions): RecoveryOp<R, T>
  /** Re-acquire, then run the transaction again from the start (the old generator is closed). */
  restart(options?: AcquireOptions): RecoveryOp<R, T>
  /** Re-acquire, then run `transaction` instead (the old generator is closed). */
  replace(transaction: Transaction<R, T>, options?: AcquireOptions): RecoveryOp<R, T>
  /** Give up: the CommitPromise rejects with `error`, or with the LockError when none is given. */
  reject(error?: unknown): RecoveryOp<R, T>
}

/** Called with the ops and the LockError (`PREEMPTED`, `EXPIRED` or `LOST`) each time the lock is lost. */
export type RecoverHandler<R = unknown, T = unknown> = (
  ops: RecoveryOps<R, T>,
  error: LockError,
) => RecoveryOp<R, T> | PromiseLike<RecoveryOp<R, T>>

const issued = new WeakSet<object>()

function op<R, T>(value: RecoveryOp<R, T>): RecoveryOp<R, T> {
  issued.add(value)
  return value
}

/** True only for ops made by `recoveryOps` (a handler returning anything else is a bug to report). */
export function isRecoveryOp<R, T>(value: unknown): value is RecoveryOp<R, T> {
  return typeof value === 'object' && value !== null && issued.has(value)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- one frozen set of ops serves every transaction type
export const recoveryOps: RecoveryOps<any, any> = Object.freeze({
  resume: (options?: AcquireOptions) => op({ kind: 'resume', options }),
  restart: (options?: AcquireOptions) => op({ kind: 'restart', options }),
  replace: (transaction: Transaction<unknown, unknown>, options?: AcquireOptions) => {
    if (typeof transaction !== 'function') throw new TypeError('ops.replace needs a transaction (a generator function)')
    return op({ kind: 'replace', transaction, options })
  },
  reject: (error?: unknown) => op({ kind: 'reject', error }),
})

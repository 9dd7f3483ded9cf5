/**
 * Why a lock could not be had or was lost.
 *
 * - `PREEMPTED`: a strictly higher priority took the lock.
 * - `EXPIRED`: the lease reached its `lockTtl`.
 * - `LOST`: the protocol lost the lock (revoked, backend unreachable, lease not renewed in time).
 * - `ACQUIRE_TIMEOUT`: `acquireTimeout` passed before the lock was granted.
 * - `ALREADY_LOCKED`: `maxAcquireAttempts` ran out while others held the lock.
 * - `CANCELLED`: the transaction was cancelled (or its acquire aborted) by its owner.
 * - `FENCED`: a call went through a resource handle whose lease is no longer current.
 */
export type LockErrorCode =
  'PREEMPTED' | 'EXPIRED' | 'LOST' | 'ACQUIRE_TIMEOUT' | 'ALREADY_LOCKED' | 'CANCELLED' | 'FENCED'

/** Codes for a lock lost after it was acquired: these go to `.recover()`. */
export const RECOVERABLE_CODES: ReadonlySet<LockErrorCode> = new Set(['PREEMPTED', 'EXPIRED', 'LOST'])

/**
 * The error for everything that goes wrong with a lock rather than inside a transaction.
 *
 * @example
 * locker.promise(tx).catch((err) => {
 *   if (err instanceof LockError && err.code === 'ACQUIRE_TIMEOUT') console.warn('bulb busy')
 * })
 */
export class LockError extends Error {
  override readonly name = 'LockError'

  constructor(
    readonly code: LockErrorCode,
    message: string,
    /** The resources concerned. */
    readonly resources: readonly string[] = [],
  ) {
    super(message)
  }

  /** True for a lock lost after acquisition (`PREEMPTED`, `EXPIRED`, `LOST`). */
  get recoverable(): boolean {
    return RECOVERABLE_CODES.has(this.code)
  }
}

export function isLockError(value: unknown, code?: LockErrorCode): value is LockError {
  return value instanceof LockError && (code === undefined || value.code === code)
}

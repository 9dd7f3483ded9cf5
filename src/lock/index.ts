import { createFactory, type LockerFactory } from './locker.js'
import { memoryProtocol } from './memory.js'
import { normalizeOptions, type AcquireOptions } from './options.js'
import type { LockingProtocol } from './protocol.js'

/**
 * Creates lockers that share `protocol` (in-memory, this runtime only, by default) and start from
 * `defaults`.
 *
 * @example
 * import genLock, { alwaysResume } from 'genlock'
 * const { newLocker } = genLock()
 * const partyModeLock = newLocker('bath_bulb', bulb)
 * const securityLock = newLocker('bath_bulb', bulb, { priority: 2 })
 */
export default function genLock(defaults?: AcquireOptions, protocol?: LockingProtocol): LockerFactory {
  normalizeOptions(defaults) // fail fast on bad factory options
  return createFactory(defaults, protocol ?? memoryProtocol())
}

export { alwaysResume, alwaysRestart, type CommitPromise } from './commit-promise.js'
export { LockError, isLockError, type LockErrorCode } from './errors.js'
export { fencedView, type CallFence, type FenceAware } from './fence.js'
export type { Locker, LockerFactory } from './locker.js'
export type { LockLogger } from './logger.js'
export {
  MemoryProtocol,
  memoryProtocol,
  type LockTimer,
  type MemoryProtocolOptions,
  type ResourceSnapshot,
} from './memory.js'
export type { AcquireOptions } from './options.js'
export type {
  AcquireRequest,
  BackendReachability,
  Lease,
  LockEvent,
  LockEventListener,
  LockEventType,
  LockingProtocol,
} from './protocol.js'
export { RedisProtocol, redisProtocol, type RedisLockLogger, type RedisProtocolOptions } from './redis/index.js'
export type { RecoverHandler, RecoveryOp, RecoveryOps } from './recovery.js'
export { call, type Transaction, type TransactionContext } from './transaction.js'
export { genLock }

import genLock from './gen-lock.js'

export default genLock
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
  AcquireReceiver,
  AcquireRequest,
  BackendReachability,
  Lease,
  LockEvent,
  LockEventListener,
  LockEventType,
  LockingProtocol,
  WaitingTicket,
} from './protocol.js'
export { RedisProtocol, redisProtocol, type RedisLockLogger, type RedisProtocolOptions } from './redis/index.js'
export type { RecoverHandler, RecoveryOp, RecoveryOps } from './recovery.js'
export { call, type Transaction, type TransactionContext } from './transaction.js'
export { genLock }

import { randomUUID } from 'node:crypto'
import { commitPromiseOf, type CommitPromise } from './commit-promise.js'
import { fence, type CallFence } from './fence.js'
import { normalizeOptions, resolveOptions, type AcquireOptions } from './options.js'
import type { LockingProtocol } from './protocol.js'
import { requestOf, TransactionRun, type RunTarget } from './run.js'
import type { Transaction } from './transaction.js'

/**
 * A lock holder for one resource (or, from `newDualLocker`/`newGroupLocker`, several held as one).
 * Call it, or its `promise` method, with a transaction to run it under the lock.
 *
 * @example
 * const partyModeLock = newLocker('bath_bulb', bulb)
 * alwaysResume(partyModeLock.promise(rainbowsTransaction))
 */
export interface Locker<R> {
  <T>(transaction: Transaction<R, T>, options?: AcquireOptions): CommitPromise<T, R>
  /** Acquires the lock, runs `transaction` while it is held, and releases it when the transaction ends. */
  promise<T>(transaction: Transaction<R, T>, options?: AcquireOptions): CommitPromise<T, R>
  readonly resource: R
  /** The resource guids this locker locks, sorted. */
  readonly resourceGuids: readonly string[]
  readonly lockerGuid: string
  /** Options this locker's transactions start from (factory and locker defaults merged). */
  readonly defaults: Readonly<AcquireOptions>
}

interface LockerInternals<R> {
  readonly protocol: LockingProtocol
  handle(issue: () => CallFence): R
}

const internals = new WeakMap<object, LockerInternals<unknown>>()

function internalsOf<R>(locker: Locker<R>, role: string): LockerInternals<R> {
  const found = internals.get(locker)
  if (!found) throw new TypeError(`${role} must be a locker made by newLocker, newDualLocker or newGroupLocker`)
  return found as LockerInternals<R>
}

/*
 * One executor for every transaction's promise, leaving its resolvers here for the caller to take at once: the
 * executor runs synchronously inside the Promise constructor. An executor closure per call, writing into the call's
 * own variables, cost a closure and a context per transaction (~100 bytes), and Promise.withResolvers, which would
 * avoid both, is missing from Node 20, where the lock core still runs. Between calls these hold `noop`, so the
 * module keeps no promise alive.
 */
let capturedResolve: (value: unknown) => void = noop
let capturedReject: (error: unknown) => void = noop

function captureResolvers(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  capturedResolve = resolve
  capturedReject = reject
}

function noop(): void {}

type Executor<T> = (resolve: (value: T) => void, reject: (error: unknown) => void) => void

function makeLocker<R>(
  protocol: LockingProtocol,
  resource: R,
  resourceGuids: readonly string[],
  defaults: AcquireOptions,
  lockerGuid: string,
  handle: (issue: () => CallFence) => R,
): Locker<R> {
  const resolvedBase = resolveOptions(defaults)
  const target: RunTarget<R> = {
    protocol,
    resourceGuids,
    lockerGuid,
    baseOptions: defaults,
    resolvedBase,
    request: requestOf({ resourceGuids, lockerGuid }, resolvedBase),
    handle,
  }
  const promise = <T>(transaction: Transaction<R, T>, options?: AcquireOptions): CommitPromise<T, R> => {
    if (typeof transaction !== 'function') throw new TypeError('a transaction must be a generator function')
    // The run is made outside the promise's executor: bad options throw to the caller, as from newLocker, and leave
    // no rejected promise unhandled. What the module held before is put back after: a patched global Promise may
    // start another transaction from its constructor, after our executor ran, and must not take these resolvers.
    const heldResolve = capturedResolve
    const heldReject = capturedReject
    const promise = new Promise<T>(captureResolvers as Executor<T>)
    const resolve: (value: T) => void = capturedResolve
    const reject = capturedReject
    capturedResolve = heldResolve
    capturedReject = heldReject
    if (resolve === heldResolve) throw new TypeError('the global Promise did not call its executor at once')
    const run = new TransactionRun(target, transaction, options, resolve, reject)
    const commit = commitPromiseOf(promise, run)
    run.start()
    return commit
  }
  const locker = Object.assign(promise, {
    promise,
    resource,
    resourceGuids,
    lockerGuid,
    defaults: Object.freeze({ ...defaults }),
  }) as Locker<R>
  internals.set(locker, { protocol, handle } as LockerInternals<unknown>)
  return locker
}

/** The strictest of several lockers' options: highest priority, shortest TTL and timeout, fewest attempts. */
function strictest(lockers: readonly Locker<unknown>[]): AcquireOptions {
  const resolved = lockers.map((locker) => resolveOptions(locker.defaults))
  return {
    priority: Math.max(...resolved.map((o) => o.priority)),
    lockTtl: Math.min(...resolved.map((o) => o.lockTtl)),
    acquireTimeout: Math.min(...resolved.map((o) => o.acquireTimeout)),
    maxAcquireAttempts: Math.min(...resolved.map((o) => o.maxAcquireAttempts)),
  }
}

/** The locker factory returned by the default export (`genLock`). */
export interface LockerFactory {
  newLocker<R>(resourceGuid: string, resource: R, defaults?: AcquireOptions, lockerGuid?: string): Locker<R>
  newDualLocker<A, B>(
    lockerA: Locker<A>,
    lockerB: Locker<B>,
    options?: AcquireOptions,
    lockerGuid?: string,
  ): Locker<[A, B]>
  newGroupLocker<R extends unknown[]>(
    lockers: { [K in keyof R]: Locker<R[K]> },
    options?: AcquireOptions,
    lockerGuid?: string,
  ): Locker<R>
  /** The protocol these lockers lock through. */
  readonly protocol: LockingProtocol
}

export function createFactory(factoryDefaults: AcquireOptions | undefined, protocol: LockingProtocol): LockerFactory {
  const factoryOptions = normalizeOptions(factoryDefaults)

  function newLocker<R>(resourceGuid: string, resource: R, defaults?: AcquireOptions, lockerGuid?: string) {
    if (typeof resourceGuid !== 'string' || resourceGuid === '') {
      throw new TypeError('newLocker needs a non-empty resourceGuid string')
    }
    const options = { ...factoryOptions, ...normalizeOptions(defaults) }
    return makeLocker(protocol, resource, [resourceGuid], options, checkGuid(lockerGuid), (issue) =>
      fence(resource, issue),
    )
  }

  function newGroupLocker<R extends unknown[]>(
    lockers: { [K in keyof R]: Locker<R[K]> },
    options?: AcquireOptions,
    lockerGuid?: string,
  ): Locker<R> {
    const parts = lockers as readonly Locker<unknown>[]
    if (!Array.isArray(parts) || parts.length === 0) throw new TypeError('newGroupLocker needs at least one locker')
    const partInternals = parts.map((locker, i) => internalsOf(locker, `locker ${i}`))
    if (partInternals.some((part) => part.protocol !== protocol)) {
      throw new TypeError('a composite locker must combine lockers of the same factory protocol')
    }
    // One canonical order for every composite: the protocol grants all resources at once, so
    // newDualLocker(a, b) and newDualLocker(b, a) ask for the very same thing and cannot deadlock.
    const resourceGuids = [...new Set(parts.flatMap((locker) => locker.resourceGuids))].sort()
    const defaults = { ...strictest(parts), ...normalizeOptions(options) }
    const resource = parts.map((locker) => locker.resource) as R
    return makeLocker(
      protocol,
      resource,
      resourceGuids,
      defaults,
      checkGuid(lockerGuid),
      (issue) => partInternals.map((part) => part.handle(issue)) as R,
    )
  }

  function newDualLocker<A, B>(lockerA: Locker<A>, lockerB: Locker<B>, options?: AcquireOptions, lockerGuid?: string) {
    return newGroupLocker<[A, B]>([lockerA, lockerB], options, lockerGuid)
  }

  return { newLocker, newDualLocker, newGroupLocker, protocol }
}

function checkGuid(lockerGuid: string | undefined): string {
  if (lockerGuid === undefined) return randomUUID()
  if (typeof lockerGuid !== 'string' || lockerGuid === '') throw new TypeError('lockerGuid must be a non-empty string')
  return lockerGuid
}

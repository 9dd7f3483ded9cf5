import type { AcquireOptions, LockEvent, LockerFactory, LockingProtocol } from '../../src/index.js'

export interface Deferred<T = void> {
  promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Resolves with the first lock event matching `predicate` (registered before the action that causes it). */
export function nextLockEvent(protocol: LockingProtocol, predicate: (event: LockEvent) => boolean): Promise<LockEvent> {
  return new Promise((resolve) => {
    const off = protocol.on((event) => {
      if (!predicate(event)) return
      off()
      resolve(event)
    })
  })
}

let counter = 0
/** A resource name no other test uses (protocols may be shared, e.g. one Redis). */
export function uniqueResource(label: string): string {
  return `${label}-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`
}

/**
 * Holds `resource` in a transaction until `release` is resolved; resolves once it holds it, with its fencing
 * `token`. `holding` is the transaction's CommitPromise (set its `.recover` before the lock can be lost).
 */
export async function holdLock(lock: LockerFactory, resource: string, options: AcquireOptions = {}) {
  const release = deferred()
  const held = deferred<number>()
  const holding = lock.newLocker(resource, null, options).promise(function* (_resource, context) {
    held.resolve(context.token)
    yield release.promise
  })
  const token = await held.promise
  return { release, holding, token }
}

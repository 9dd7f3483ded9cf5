/**
 * What a transaction gets beside its resource. One context lives for the whole transaction; `signal`,
 * `token` and `tokens` describe the lease it is running under right now (a new one after each recovery).
 */
export interface TransactionContext {
  /** Aborts the moment the lease is lost or the transaction ends. Read it afresh after a yield. */
  readonly signal: AbortSignal
  /** Waits `ms`; ends early, resolving `false`, if the lease is lost (the generator is not resumed until recovery). */
  sleep(ms: number): Promise<boolean>
  /** The fencing token of the current lease (the largest, for a composite lock). */
  readonly token: number
  /** The fencing token of the current lease for each resource guid. */
  readonly tokens: Readonly<Record<string, number>>
  readonly lockerGuid: string
  readonly priority: number
  /** 1 for the first run, +1 for every re-acquisition by a recovery op. */
  readonly attempt: number
}

/**
 * A generator function run under a lock: it receives the locked (fenced) resource and a context, yields
 * promises or plain values, and returns its result. It may be suspended at any `yield` when the lock is lost.
 *
 * @example
 * function* alarm(bulb: Bulb) {
 *   yield bulb.setBrightness(50)
 *   yield bulb.setBrightness(100)
 *   return yield bulb.getStatus()
 * }
 */
export type Transaction<R, T = unknown> = (resource: R, context: TransactionContext) => Generator<unknown, T, unknown>

/**
 * A typed `yield`: `const status = yield* call(bulb.getStatus())` gives `status` the promise's type.
 *
 * @example
 * function* tx(bulb: Bulb) {
 *   const status = yield* call(bulb.getStatus()) // status: BulbStatus
 *   return status.on
 * }
 */
export function* call<T>(value: T | PromiseLike<T>): Generator<T | PromiseLike<T>, T, unknown> {
  return (yield value) as T
}

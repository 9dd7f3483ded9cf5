import type { AbortSignalLike } from './cancel-signal.js'
import type { LockError } from './errors.js'

/** What a locker asks a protocol for: every resource in `resources`, all at once, as `lockerGuid`. */
export interface AcquireRequest {
  /** Resource guids, deduplicated. A composite lock asks for several; it gets all or none. */
  readonly resources: readonly string[]
  /** Requests with the same lockerGuid share a held lock (re-entrance). */
  readonly lockerGuid: string
  readonly priority: number
  /** ms from grant; Infinity for none. */
  readonly lockTtl: number
  /** ms to wait; Infinity for no limit. */
  readonly acquireTimeout: number
  readonly maxAcquireAttempts: number
  /**
   * Aborting it withdraws a waiting request (rejects with `CANCELLED`). Only `aborted`, `reason` and
   * add/removeEventListener('abort') may be used: the core passes a lightweight signal, not an AbortSignal.
   */
  readonly signal?: AbortSignalLike | undefined
}

/**
 * A granted lock. `valid` turns false, synchronously, the moment the lock is lost or released; `onLost`
 * listeners are called afterwards (never re-entrantly from inside the protocol).
 */
export interface Lease {
  readonly resources: readonly string[]
  readonly lockerGuid: string
  readonly priority: number
  /** Fencing token per resource; each grant gets a larger one than every grant before it on that resource. */
  readonly tokens: Readonly<Record<string, number>>
  readonly valid: boolean
  /** Why the lease was lost, once it has been. */
  readonly lossReason: LockError | undefined
  /**
   * Called once if the lease is lost (not when it is released). A listener may return a promise that settles
   * once the holder has stopped using the resource (its in-flight step has landed): a protocol that hands the
   * lock to another process waits for it, within its hand-off bound, before the new holder may start.
   */
  onLost(listener: (error: LockError) => void | PromiseLike<void>): void
  /** Gives the lock back. Safe to call more than once. */
  release(): void | Promise<void>
}

export type LockEventType = 'waiting' | 'acquired' | 'preempted' | 'expired' | 'lost' | 'released' | 'gave-up'

/** One thing that happened to one resource's lock. */
export interface LockEvent {
  readonly type: LockEventType
  readonly resource: string
  readonly lockerGuid: string
  readonly priority: number
  /** The fencing token of the lease concerned; absent for `waiting` and `gave-up`. */
  readonly token?: number
  /** For `preempted`: who took the lock. */
  readonly by?: { readonly lockerGuid: string; readonly priority: number }
  /** For `gave-up`: why the request stopped waiting. */
  readonly reason?: string
}

export type LockEventListener = (event: LockEvent) => void

/**
 * Whether a protocol's backend (Redis) can be reached now, for callers that wait out an outage rather than fail:
 * an automation triggered while it is down runs once it is back (issue 13.11).
 */
export interface BackendReachability {
  readonly reachable: boolean
  /** Calls `listener` on every change; returns the unsubscribe function. */
  onChange(listener: (reachable: boolean) => void): () => void
}

/**
 * Where locks live. The core runs transactions; a protocol only decides who holds what.
 * `acquire` may return the lease synchronously when it can grant at once (the in-memory fast path).
 *
 * Contract (checked by test/lock/protocol-contract.ts for every implementation):
 * - at most one lockerGuid holds a resource at a time; requests with the holder's lockerGuid join it;
 * - a strictly higher priority request takes the lock from the holder; others wait;
 * - waiters are granted highest priority first, first come first served within a priority, without polling;
 * - `acquireTimeout`, `maxAcquireAttempts`, `lockTtl` and `signal` behave as documented on AcquireOptions.
 */
/** Told the outcome of an `acquireFor` that did not grant at once, a microtask after it is decided. */
export interface AcquireReceiver {
  granted(lease: Lease): void
  refused(error: unknown): void
  /**
   * Told at once, inside `acquireFor`, when the request has to wait: `ticket.withdraw()` withdraws it, so the request
   * needs no `signal`.
   */
  waiting?(ticket: WaitingTicket): void
}

/** A request waiting in a protocol's queue. `withdraw` refuses it with `CANCELLED`, as an aborted signal would. */
export interface WaitingTicket {
  withdraw(): void
}

export interface LockingProtocol {
  acquire(request: AcquireRequest): Lease | Promise<Lease>
  /**
   * `acquire` without the promise: returns the lease when granted at once, otherwise undefined, and tells
   * `receiver` later, in the microtask a promise reaction would have run in. Optional; the core uses it when
   * present. A request that has to wait is announced to `receiver.waiting` with its ticket, so the core sends no
   * `signal` (and a transaction on its locker's options shares its locker's request). A waiting transaction then costs
   * no promise, resolving functions, reaction objects, signal or listener: at a queue thousands deep those are most
   * of what the garbage collector has to copy.
   */
  acquireFor?(request: AcquireRequest, receiver: AcquireReceiver): Lease | undefined
  /** For a protocol whose backend can be out of reach (Redis); absent for one that cannot be (memory). */
  readonly backend?: BackendReachability
  on(listener: LockEventListener): () => void
  /** Releases what the protocol holds (connections, timers). Leases still held are lost. */
  close(): Promise<void>
}

import type { LockError } from './errors.js'
import { reportListenerError, type LockLogger } from './logger.js'
import type { Lease } from './protocol.js'

const settled: Promise<void> = Promise.resolve()

type LossListener = (error: LockError) => unknown

/**
 * What every protocol's lease shares: the live flag, the loss reason and the loss listeners. Listeners run
 * user code (recovery handlers), so they are called a microtask after the loss (never from inside a protocol
 * decision), and one that throws or rejects is logged, not rethrown.
 */
export abstract class LeaseBase implements Lease {
  /** False once released or lost. */
  live = true
  lossReason: LockError | undefined
  /** Settles once every loss listener's promise has (the holder stopped using the resource). */
  drained: Promise<void> = settled
  /** One listener as it is (the usual case: its run), several in an array. */
  private lostListeners: LossListener | LossListener[] | undefined

  constructor(
    readonly resources: readonly string[],
    readonly lockerGuid: string,
    readonly priority: number,
    private readonly logger: LockLogger,
  ) {}

  abstract readonly tokens: Readonly<Record<string, number>>
  abstract get valid(): boolean
  abstract release(): void | Promise<void>

  onLost(listener: LossListener): void {
    if (this.lossReason) {
      const reason = this.lossReason
      queueMicrotask(() => void this.call(listener, reason))
    } else if (this.live) {
      const listeners = this.lostListeners
      if (!listeners) this.lostListeners = listener
      else if (Array.isArray(listeners)) listeners.push(listener)
      else this.lostListeners = [listeners, listener]
    }
  }

  /**
   * A released lease is never lost, so its listeners, and the transaction they reach, need not live as long as the
   * lease: whoever still holds it (a finished run's fence) would otherwise keep them.
   */
  dropLossListeners(): void {
    this.lostListeners = undefined
  }

  /** Called by the protocol after it has marked the lease dead. */
  notifyLost(error: LockError): void {
    this.lossReason = error
    const listeners = this.lostListeners
    this.lostListeners = undefined
    if (!listeners) return
    this.drained = new Promise<void>((resolve) =>
      queueMicrotask(() => {
        const stopped = (Array.isArray(listeners) ? listeners : [listeners]).map((listener) =>
          this.call(listener, error),
        )
        void Promise.all(stopped).then(() => resolve())
      }),
    )
  }

  /** Runs one loss listener; resolves when the promise it returned settles, whatever the outcome. */
  private call(listener: LossListener, error: LockError): unknown {
    const context = { resources: this.resources, lockerGuid: this.lockerGuid, code: error.code }
    try {
      const result = listener(error)
      if (!isThenable(result)) return undefined
      return Promise.resolve(result).catch((failure: unknown) =>
        reportListenerError(this.logger, failure, context, 'lease-loss'),
      )
    } catch (failure) {
      reportListenerError(this.logger, failure, context, 'lease-loss')
      return undefined
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

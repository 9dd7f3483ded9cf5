import type { LockError } from '../errors.js'
import type { Lease } from '../protocol.js'
import type { Epoch } from './heartbeat.js'

/** What the protocol does for a lease. */
export interface LeaseOwner {
  releaseLease(lease: RedisLease): void
}

/** A lock granted by Redis. `valid` reads a flag and the monotonic clock: cheap enough for every step. */
export class RedisLease implements Lease {
  /** False once released or lost. */
  live = true
  lossReason: LockError | undefined
  ttlTimer: ReturnType<typeof setTimeout> | undefined
  /** Monotonic ms at which lockTtl runs out (Infinity for none); the timer reports it, `valid` enforces it. */
  ttlDeadline = Infinity
  private lostListeners: ((error: LockError) => unknown)[] | undefined
  /** Settles once every loss listener's promise has (the holder stopped using the resource). */
  drained: Promise<void> = Promise.resolve()

  constructor(
    private readonly owner: LeaseOwner,
    /** The server's id for this lease (the id of the request that got it). */
    readonly id: string,
    readonly epoch: Epoch<RedisLease>,
    readonly resources: readonly string[],
    readonly lockerGuid: string,
    readonly priority: number,
    readonly tokens: Readonly<Record<string, number>>,
  ) {}

  /**
   * Turns false by itself when the epoch's deadline (or lockTtl) passes, before any timer has had a chance to
   * run (after a SIGSTOP/SIGCONT or a long event-loop stall): the fenced handle then refuses the next command.
   */
  get valid(): boolean {
    if (!this.live) return false
    const now = this.epoch.clock()
    return now < this.epoch.deadline && now < this.ttlDeadline
  }

  onLost(listener: (error: LockError) => unknown): void {
    if (this.lossReason) {
      const reason = this.lossReason
      queueMicrotask(() => listener(reason))
    } else if (this.live) {
      ;(this.lostListeners ??= []).push(listener)
    }
  }

  release(): void {
    this.owner.releaseLease(this)
  }

  /** Called by the protocol after it has marked the lease dead. */
  notifyLost(error: LockError): void {
    this.lossReason = error
    const listeners = this.lostListeners
    this.lostListeners = undefined
    if (!listeners) return
    // Listeners run recovery handlers (user code); never run them from inside a protocol decision.
    this.drained = new Promise<void>((resolve) =>
      queueMicrotask(() => {
        const stopped = listeners.map((listener) => listener(error))
        void Promise.allSettled(stopped).then(() => resolve())
      }),
    )
  }
}

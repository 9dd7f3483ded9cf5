import { LeaseBase } from '../lease-base.js'
import type { LockLogger } from '../logger.js'
import type { Epoch } from './heartbeat.js'

/** What the protocol does for a lease. */
export interface LeaseOwner {
  releaseLease(lease: RedisLease): void
}

/** A lock granted by Redis. `valid` reads a flag and the monotonic clock: cheap enough for every step. */
export class RedisLease extends LeaseBase {
  ttlTimer: ReturnType<typeof setTimeout> | undefined
  /** Monotonic ms at which lockTtl runs out (Infinity for none); the timer reports it, `valid` enforces it. */
  ttlDeadline = Infinity

  constructor(
    private readonly owner: LeaseOwner,
    /** The server's id for this lease (the id of the request that got it). */
    readonly id: string,
    readonly epoch: Epoch<RedisLease>,
    resources: readonly string[],
    lockerGuid: string,
    priority: number,
    readonly tokens: Readonly<Record<string, number>>,
    logger: LockLogger,
  ) {
    super(resources, lockerGuid, priority, logger)
  }

  /**
   * Turns false by itself when the epoch's deadline (or lockTtl) passes, before any timer has had a chance to
   * run (after a SIGSTOP/SIGCONT or a long event-loop stall): the fenced handle then refuses the next command.
   */
  get valid(): boolean {
    if (!this.live) return false
    const now = this.epoch.clock()
    return now < this.epoch.deadline && now < this.ttlDeadline
  }

  release(): void {
    this.owner.releaseLease(this)
  }
}

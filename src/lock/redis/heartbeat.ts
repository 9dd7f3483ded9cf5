import { performance } from 'node:perf_hooks'

/** Monotonic ms: wall-clock jumps never stretch a lease. It keeps counting while the process is stopped. */
export type Clock = () => number

export const monotonicClock: Clock = () => performance.now()

/** How the heartbeat sets and clears its timers (in the manner of MQTT.js's get-timer.ts): injectable for tests. */
export interface Timers {
  set(callback: () => void, ms: number): unknown
  clear(handle: unknown): void
}

/** The global timers, unref'd: a heartbeat never keeps the process alive by itself. */
export const nodeTimers: Timers = {
  set(callback, ms) {
    const timer = setTimeout(callback, ms)
    timer.unref?.()
    return timer
  },
  clear(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>)
  },
}

/**
 * A stretch of time during which this client's heartbeat is known to be alive on the server. Every lease
 * granted in it is good until `deadline` (local monotonic ms, already short of the server's deadline by the
 * drift allowance). A renewal that returns in time moves the deadline on; once it passes, the epoch is over
 * for good and its leases are lost, even if a late renewal comes back afterwards.
 */
export class Epoch<L = unknown> {
  readonly leases = new Set<L>()
  constructor(
    public deadline: number,
    readonly clock: Clock,
  ) {}

  get alive(): boolean {
    return this.clock() < this.deadline
  }
}

export interface HeartbeatOptions {
  /** The server keeps a silent client's locks this long, ms. */
  readonly lease: number
  /** ms between renewals while there is anything to renew. */
  readonly renewEvery: number
  /** ms taken off every local deadline for clock drift. */
  readonly drift: number
  readonly clock?: Clock
  readonly timers?: Timers
}

/** What the heartbeat asks of its protocol. */
export interface HeartbeatHost<L> {
  /**
   * Sends one renewal and reconciles with the reply, calling `extend` when the server answered. Resolves
   * false when there was nothing to renew (idle: the heartbeat may lapse), true otherwise (failures included:
   * the next renewal is then scheduled as usual).
   */
  renew(): Promise<boolean>
  /** `epoch` ran out with leases in it: they are lost. */
  expire(epoch: Epoch<L>, reason: string): void
}

/**
 * This client's heartbeat on the server, seen from here: when to renew (every `renewEvery`, sooner on
 * request, never two renewals at once), and until when the leases granted under it are good (the current
 * epoch). Owns every timer of that; the protocol owns what a renewal says and what losing a lease means.
 */
export class Heartbeat<L> {
  readonly now: Clock
  private current: Epoch<L>
  private readonly timers: Timers
  private epochTimer: unknown
  private renewTimer: unknown
  private renewAt = Infinity
  /** When the connection last dropped (`lapse`); replies to commands sent before then are not trusted. */
  private lapsedAt = -Infinity
  private renewing = false
  private renewAgain = false
  private stopped = false

  constructor(
    private readonly options: HeartbeatOptions,
    private readonly host: HeartbeatHost<L>,
  ) {
    this.now = options.clock ?? monotonicClock
    this.timers = options.timers ?? nodeTimers
    this.current = new Epoch<L>(0, this.now)
  }

  /** The epoch new leases join. */
  get epoch(): Epoch<L> {
    return this.current
  }

  get alive(): boolean {
    return this.current.alive
  }

  /**
   * The server renewed the heartbeat no earlier than `sent`: leases are good until sent + lease - drift. Returns
   * false, changing nothing, for a reply to a command sent before the last `lapse`: the connection dropped while it
   * was out, so it speaks for a server that may have restarted since (and forgotten every lease it granted).
   */
  extend(sent: number): boolean {
    if (sent <= this.lapsedAt) return false
    const deadline = sent + this.options.lease - this.options.drift
    if (this.current.alive) {
      if (deadline > this.current.deadline) this.current.deadline = deadline
      return true
    }
    // An epoch whose deadline passed never comes back, even if this renewal was only late.
    const over = this.current
    this.current = new Epoch<L>(deadline, this.now)
    this.expire(over, this.lapsedReason())
    return true
  }

  /** Ends the current epoch now (the connection dropped): its leases are lost. */
  lapse(reason: string): void {
    this.lapsedAt = this.now()
    this.current.deadline = 0
    this.expire(this.current, reason)
  }

  /** Adds a lease to the current epoch and watches its deadline. */
  join(lease: L): Epoch<L> {
    this.current.leases.add(lease)
    this.watchDeadline()
    return this.current
  }

  /** Asks for a renewal within `delay` ms (an earlier request wins). */
  renewIn(delay: number): void {
    if (this.stopped) return
    const at = this.now() + delay
    if (this.renewTimer !== undefined && this.renewAt <= at) return
    if (this.renewTimer !== undefined) this.timers.clear(this.renewTimer)
    this.renewAt = at
    this.renewTimer = this.timers.set(() => {
      this.renewTimer = undefined
      this.renewAt = Infinity
      void this.renew()
    }, delay)
  }

  /** Keeps renewing while there is anything to renew: called whenever a request goes to the server. */
  keepAlive(): void {
    this.renewIn(this.options.renewEvery)
  }

  /** A waiter wakes (renews, which reaps) when another client's heartbeat runs out, in case it held our lock. */
  wakeAt(ms: number): void {
    if (ms >= 0) this.renewIn(ms + 1)
  }

  stop(): void {
    this.stopped = true
    if (this.renewTimer !== undefined) this.timers.clear(this.renewTimer)
    if (this.epochTimer !== undefined) this.timers.clear(this.epochTimer)
    this.renewTimer = this.epochTimer = undefined
  }

  private async renew(): Promise<void> {
    if (this.stopped) return
    if (this.renewing) {
      this.renewAgain = true
      return
    }
    this.renewing = true
    let active: boolean
    try {
      active = await this.host.renew()
    } finally {
      this.renewing = false
    }
    if (!active) return
    this.keepAlive()
    if (this.renewAgain) {
      this.renewAgain = false
      this.renewIn(0)
    }
  }

  private watchDeadline(): void {
    if (this.epochTimer !== undefined || this.stopped) return
    this.epochTimer = this.timers.set(
      () => {
        this.epochTimer = undefined
        const epoch = this.current
        if (epoch.leases.size === 0) return
        if (epoch.alive) this.watchDeadline()
        else this.expire(epoch, this.lapsedReason())
      },
      Math.max(0, this.current.deadline - this.now()),
    )
  }

  private expire(epoch: Epoch<L>, reason: string): void {
    if (epoch.leases.size > 0) this.host.expire(epoch, reason)
  }

  private lapsedReason(): string {
    return `the Redis lease was not renewed within ${this.options.lease} ms`
  }
}

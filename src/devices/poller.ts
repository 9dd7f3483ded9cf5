/** How a {@link Poller} reads a bulb and when. */
export interface PollerOptions {
  /** Time between reads while the bulb answers, ms. */
  readonly intervalMs: number
  /**
   * Longest time between reads while it does not: the interval doubles per failed read up to this. Default 60 s, so a
   * bulb cut at the wall switch is seen again within a minute of being switched back on.
   */
  readonly maxIntervalMs?: number
  /** Reads the bulb once; resolves true when it answered. Never rejects. */
  readonly poll: () => Promise<boolean>
  /** Whether a command to the bulb is queued or in flight: then the read waits, so it never delays a command. */
  readonly busy: () => boolean
}

/** How soon a read that found the bulb busy tries again, ms: commands take milliseconds, the interval seconds. */
const BUSY_RETRY_MS = 250

/**
 * Reads a bulb on a timer, for bulbs that do not push their state (Kasa): every `intervalMs` while it answers, backing
 * off while it does not, and never while a command to it is in flight. One read at a time (the next one is scheduled
 * when the last has finished); timers are unref'd, so polling never keeps the process alive.
 *
 * @example
 * const poller = new Poller({ intervalMs: 5000, poll: () => read().then(() => true, () => false), busy: () => queue.size > 0 })
 * poller.start()
 */
export class Poller {
  private timer: NodeJS.Timeout | undefined
  private running = false
  private failures = 0

  constructor(private readonly options: PollerOptions) {}

  /** The wait before the next read: the interval, doubled per failed read in a row, capped. */
  get nextDelayMs(): number {
    const { intervalMs, maxIntervalMs = 60_000 } = this.options
    return Math.min(Math.max(intervalMs, maxIntervalMs), intervalMs * 2 ** this.failures)
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.failures = 0
    this.schedule(this.options.intervalMs)
  }

  stop(): void {
    this.running = false
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => void this.tick(), delayMs)
    this.timer.unref()
  }

  private async tick(): Promise<void> {
    if (!this.running) return
    if (this.options.busy()) {
      this.schedule(Math.min(BUSY_RETRY_MS, this.options.intervalMs))
      return
    }
    const answered = await this.options.poll()
    if (!this.running) return
    this.failures = answered ? 0 : Math.min(this.failures + 1, 30)
    this.schedule(this.nextDelayMs)
  }
}

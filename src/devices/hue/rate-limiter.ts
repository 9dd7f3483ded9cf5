/**
 * At most `limit` sends in any `windowMs`. Hue asks apps to send a bridge no more than about 10 light commands a
 * second (more are queued by the bridge, then dropped with 429), so every light on one bridge shares one of these.
 * The clock is injectable for tests under fake timers.
 */
export class RollingRateLimiter {
  private readonly sent: number[] = []

  constructor(
    readonly limit = 10,
    readonly windowMs = 1000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Sends still allowed right now. */
  remaining(): number {
    this.forget()
    return this.limit - this.sent.length
  }

  /** Milliseconds until the next send is allowed; 0 means now. */
  delay(): number {
    this.forget()
    return this.sent.length < this.limit ? 0 : Math.max(0, this.sent[0]! + this.windowMs - this.now())
  }

  /** Records one send. */
  take(): void {
    this.forget()
    this.sent.push(this.now())
  }

  /** Waits for a free place, then takes it; `signal` (a timed-out attempt) stops the wait. */
  async acquire(signal?: { readonly aborted: boolean; onAbort(listener: () => void): () => void }): Promise<void> {
    for (let wait = this.delay(); wait > 0; wait = this.delay()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait)
        const off = signal?.onAbort(done)
        function done() {
          clearTimeout(timer)
          off?.()
          resolve()
        }
      })
      if (signal?.aborted) return
    }
    this.take()
  }

  private forget(): void {
    const horizon = this.now() - this.windowMs
    while (this.sent.length > 0 && this.sent[0]! <= horizon) this.sent.shift()
  }
}

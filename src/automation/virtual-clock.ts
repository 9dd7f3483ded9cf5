import type { Cancel, Clock } from './clock.js'

interface Entry {
  readonly due: number
  /** Registration order: callbacks due at the same time run in the order they were registered. */
  readonly seq: number
  readonly callback: () => void
}

export interface VirtualClockOptions {
  /** Epoch ms the clock reads at the start. */
  readonly start: number
  /**
   * Virtual ms per real ms: 1 is real time, 60 a minute per second. 0 stops time: it moves only with
   * {@link VirtualClock.advance}, which is what makes a script give the same timeline every run. Default 1.
   */
  readonly speed?: number
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** The longest delay `setTimeout` takes; a later due time is reached in steps. */
const MAX_TIMER_MS = 2_147_483_647

/**
 * A {@link Clock} over its own time, for `genlock simulate`: it starts at a chosen moment, runs at a chosen speed
 * (or not at all), and jumps forward on {@link advance}, calling what falls due on the way one at a time, each at
 * its own due time, in due order (ties in the order they were registered).
 *
 * @example
 * const clock = new VirtualClock({ start: Date.parse('2026-12-24T06:55:00'), speed: 0 })
 * clock.after(60_000, () => console.log(new Date(clock.now()))) // 06:56
 * await clock.advance(10 * 60_000) // the callback runs; the clock then reads 07:05
 */
export class VirtualClock implements Clock {
  private rate: number
  /** Virtual time at `anchor` (real, performance.now); while held, simply the time. */
  private base: number
  private anchor = performance.now()
  private readonly queue: Entry[] = []
  private seq = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  /** Set while {@link advance} moves time itself: real time does not count, no real timer runs callbacks. */
  private held = false

  constructor(options: VirtualClockOptions) {
    if (!Number.isFinite(options.start)) throw new RangeError('start must be a time')
    this.rate = checkedSpeed(options.speed ?? 1)
    this.base = Math.floor(options.start)
  }

  now(): number {
    if (this.held || this.rate === 0) return this.base
    return this.base + Math.floor((performance.now() - this.anchor) * this.rate)
  }

  /** Virtual ms per real ms (0: stopped). */
  get speed(): number {
    return this.rate
  }

  /**
   * Runs on at `speed` from now on, from the time it reads now: a simulation starts its clock stopped and sets
   * its speed once the daemon is up, so the seconds it took to start are not minutes at 60×.
   */
  setSpeed(speed: number): void {
    this.base = this.now()
    this.anchor = performance.now()
    this.rate = checkedSpeed(speed)
    this.arm()
  }

  after(ms: number, callback: () => void): Cancel {
    return this.at(this.now() + Math.max(0, ms), callback)
  }

  at(time: number, callback: () => void): Cancel {
    const entry: Entry = { due: time, seq: this.seq++, callback }
    // After every entry due at or before it: equal due times keep their registration order.
    let low = 0
    let high = this.queue.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (this.queue[middle]!.due <= time) low = middle + 1
      else high = middle
    }
    this.queue.splice(low, 0, entry)
    if (low === 0) this.arm()
    return () => {
      const index = this.queue.indexOf(entry)
      if (index < 0) return
      this.queue.splice(index, 1)
      if (index === 0) this.arm()
    }
  }

  /** How many callbacks are waiting. */
  get pending(): number {
    return this.queue.length
  }

  /** When the next callback is due (epoch ms), if one is waiting. */
  get nextDue(): number | undefined {
    return this.queue[0]?.due
  }

  /**
   * Moves time forward by `ms`: each callback due by then runs at its due time (the clock reads it), in order,
   * and `settle` is awaited after each, so what it set off (a bulb command, the next step's `wait`) has happened
   * before the next one runs. It settles first (what was set off before it has happened), then callbacks already
   * due run; `advance(0)` settles and runs only those. Not re-entrant:
   * callers run one advance at a time.
   */
  async advance(ms: number, settle: () => Promise<void> = () => this.quiet()): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`cannot advance by ${ms} ms`)
    const target = this.now() + ms
    this.hold()
    try {
      await settle()
      for (let next = this.queue[0]; next && next.due <= target; next = this.queue[0]) {
        this.base = Math.max(this.base, next.due)
        this.queue.shift()
        next.callback()
        await settle()
      }
      this.base = Math.max(this.base, target)
    } finally {
      this.release()
    }
  }

  /**
   * The default settle: turns the event loop until two turns in a row registered or cancelled no callback, so
   * work within the process (a run's next step, a bulb answering at once) has reached its next wait. Work that
   * waits on I/O (a broker round trip) needs a settle that knows about it: `genlock simulate` passes one.
   */
  async quiet(): Promise<void> {
    let calm = 0
    while (calm < 2) {
      const seq = this.seq
      const pending = this.queue.length
      await nextTurn()
      calm = seq === this.seq && pending === this.queue.length ? calm + 1 : 0
    }
  }

  /** Stops the real timer (a clock at a speed); callbacks still waiting never run. */
  dispose(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.queue.length = 0
  }

  private hold(): void {
    this.base = this.now()
    this.held = true
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private release(): void {
    this.anchor = performance.now()
    this.held = false
    this.arm()
  }

  /** At a speed, one real timer for the earliest callback. */
  private arm(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.held || this.rate === 0) return
    const first = this.queue[0]
    if (!first) return
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil((first.due - this.now()) / this.rate)))
    this.timer = setTimeout(() => this.fire(), wait)
    // What keeps a simulation alive is its broker connection and terminal, not a schedule days away.
    this.timer.unref()
  }

  private fire(): void {
    this.timer = undefined
    const now = this.now()
    // Only what is due now: a callback that registers another for "now" has it run on the next timer.
    const due: Entry[] = []
    while (this.queue[0] && this.queue[0].due <= now) due.push(this.queue.shift()!)
    try {
      for (const entry of due) entry.callback()
    } finally {
      this.arm()
    }
  }
}

function checkedSpeed(speed: number): number {
  if (!Number.isFinite(speed) || speed < 0) throw new RangeError(`speed must be 0 or more, not ${speed}`)
  return speed
}

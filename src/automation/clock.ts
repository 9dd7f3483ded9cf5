/**
 * The one source of time for automations. Schedules (`at`, `cron`, `sun`), `for:` holds, `wait` steps,
 * `wait_for` timeouts, `now` in expressions and the stamps on run events all ask a Clock, never `Date.now` or
 * `setTimeout` themselves: the daemon passes {@link systemClock}, tests run the same clock on fake timers, and
 * `genlock simulate` can pass a virtual one (a start time, a speed, `advance 10m`).
 *
 * A virtual clock implements the three methods over its own time: `now()` is the virtual time; `after` and `at`
 * keep their callbacks in a queue ordered by virtual due time. Running at a speed, it arms one real timer for the
 * earliest due callback at (due - now) / speed; `advance(ms)` takes the due callbacks in order, setting its time
 * to each one's due time before calling it (and letting promises settle between two), so a script gives the same
 * timeline every run.
 */
export interface Clock {
  /** Epoch ms now (the virtual time, in a simulation). */
  now(): number
  /** Calls `callback` once `ms` have passed on this clock. Returns the cancel function (safe to call twice). */
  after(ms: number, callback: () => void): Cancel
  /**
   * Calls `callback` once this clock reads `time` (epoch ms) or later, even when the wall clock jumps meanwhile
   * (NTP; a Pi without a real-time clock setting its time after boot). The callback compares `now()` with `time`
   * to see how late it is. Returns the cancel function.
   */
  at(time: number, callback: () => void): Cancel
}

export type Cancel = () => void

/** The longest delay `setTimeout` takes (about 24.8 days); longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647
/**
 * How often a pending `at` looks at the wall clock again: a timer counts monotonic time, so after the wall clock
 * jumps (NTP at boot on a Pi without a real-time clock) a schedule is at most this late. One minute keeps a
 * week of fake-timer test time to 10 080 wake-ups per schedule.
 */
const WALL_CLOCK_CHECK_MS = 60_000

/** The real clock: `Date.now` and `setTimeout` (which vitest's fake timers replace in tests). */
export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, callback) {
    let timer: ReturnType<typeof setTimeout> | undefined
    let left = Math.max(0, ms)
    const arm = () => {
      const step = Math.min(left, MAX_TIMER_MS)
      left -= step
      timer = setTimeout(left > 0 ? arm : callback, step)
    }
    arm()
    return () => clearTimeout(timer)
  },
  at(time, callback) {
    let timer: ReturnType<typeof setTimeout> | undefined
    const check = () => {
      const left = time - Date.now()
      if (left <= 0) callback()
      else timer = setTimeout(check, Math.min(left, WALL_CLOCK_CHECK_MS))
    }
    timer = setTimeout(check, Math.max(0, Math.min(time - Date.now(), WALL_CLOCK_CHECK_MS)))
    return () => clearTimeout(timer)
  },
}

/**
 * Waits `ms` on `clock`; resolves `true` when the time has passed, `false` at once when `signal` aborts (a lost
 * lock, a cancelled run), as the lock core's `ctx.sleep` does.
 */
export function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false)
  return new Promise((resolve) => {
    const onAbort = () => {
      cancel()
      resolve(false)
    }
    const cancel = clock.after(ms, () => {
      signal.removeEventListener('abort', onAbort)
      resolve(true)
    })
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

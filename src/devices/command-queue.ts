import { DeviceError, DeviceTimeoutError, isTransientError } from './errors.js'

/** How one device's command queue behaves. */
export interface CommandQueueOptions {
  /** The device as users know it, for error messages: `bath_bulb (kasa 192.168.1.40)`. */
  readonly device: string
  /** Time one attempt may take before it counts as failed. Default 2000 ms. */
  readonly timeoutMs?: number
  /** Extra attempts after a transient failure (a timeout counts as one). Default 2. */
  readonly retries?: number
  /** Wait before the first retry; doubles for each further retry, capped at 5 s. Default 100 ms. */
  readonly backoffMs?: number
  /** Which errors are worth retrying. Default {@link isTransientError}. */
  readonly isTransient?: (error: unknown) => boolean
}

/**
 * Tells an attempt it timed out, so the adapter can stop waiting (drop a listener, retire a connection).
 * Deliberately not an AbortSignal: a Node AbortController per command was most of the queue's cost (125 000
 * vs 960 000 commands/s without it, bench/devices.ts). `abortSignal` makes a real one
 * on demand for APIs that want it.
 */
export interface CommandSignal {
  readonly aborted: boolean
  /** The DeviceTimeoutError, once aborted. */
  readonly reason: unknown
  /** Calls `listener` once when the attempt is aborted. Returns a function that removes it. */
  onAbort(listener: () => void): () => void
  /** A standard AbortSignal that follows this one, made on first use. */
  readonly abortSignal: AbortSignal
}

/** One attempt of a command; `signal` aborts when the attempt timed out, so the adapter can stop waiting. */
export type CommandTask<T> = (signal: CommandSignal, attempt: number) => Promise<T>

interface Job {
  readonly task: CommandTask<unknown>
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
  readonly retries: number
}

/** The attempt in flight: its job, number and deadline; it is also the signal its task gets. */
class Attempt implements CommandSignal {
  aborted = false
  reason: unknown = undefined
  private listeners: (() => void)[] | undefined
  private controller: AbortController | undefined

  constructor(
    readonly job: Job,
    readonly number: number,
    readonly deadline: number,
  ) {}

  onAbort(listener: () => void): () => void {
    if (this.aborted) {
      listener()
      return () => {}
    }
    ;(this.listeners ??= []).push(listener)
    return () => {
      const index = this.listeners?.indexOf(listener) ?? -1
      if (index >= 0) this.listeners!.splice(index, 1)
    }
  }

  get abortSignal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController()
      if (this.aborted) this.controller.abort(this.reason)
    }
    return this.controller.signal
  }

  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    this.controller?.abort(reason)
    const listeners = this.listeners
    this.listeners = undefined
    if (listeners) for (const listener of listeners) listener()
  }
}

/**
 * A device's command queue: commands reach the bulb in the order they were issued, one at a time; each attempt
 * has a timeout; transient failures are retried with exponential backoff. Every device has its own queue, so a
 * hung bulb only ever delays its own commands.
 *
 * A timed-out attempt cannot be un-sent: the bulb may still apply it late. The next attempt (or command) is sent
 * anyway, because waiting for a bulb that does not answer is exactly what the timeout is there to prevent.
 *
 * @example
 * const queue = new CommandQueue({ device: 'bath_bulb (kasa 192.168.1.40)', timeoutMs: 2000 })
 * await queue.run(() => client.setLightState({ on_off: 1 }))
 */
export class CommandQueue {
  readonly device: string
  readonly timeoutMs: number
  readonly retries: number
  readonly backoffMs: number
  private readonly isTransient: (error: unknown) => boolean
  private jobs: (Job | undefined)[] = []
  private head = 0
  private current: Attempt | undefined
  private closedWith: Error | undefined
  /**
   * One timer per queue, re-armed with refresh() for each attempt: only one attempt is ever in flight, and
   * re-arming is several times cheaper than a setTimeout per command (see bench/devices.ts). It is ref'd only
   * while an attempt is in flight, so an idle queue never keeps the process alive.
   */
  private timer: NodeJS.Timeout | undefined

  constructor(options: CommandQueueOptions) {
    this.device = options.device
    this.timeoutMs = options.timeoutMs ?? 2000
    this.retries = options.retries ?? 2
    this.backoffMs = options.backoffMs ?? 100
    this.isTransient = options.isTransient ?? isTransientError
  }

  /** Commands waiting, including the one being sent. */
  get size(): number {
    return this.jobs.length - this.head + (this.current ? 1 : 0)
  }

  /**
   * Queues `task`; resolves with its result, or rejects with its last error once retries are spent.
   * `options.retries` overrides the queue's retry count for this command (e.g. 0 for a quick probe).
   */
  run<T>(task: CommandTask<T>, options?: { readonly retries?: number }): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith)
    return new Promise<T>((resolve, reject) => {
      const retries = options?.retries ?? this.retries
      this.jobs.push({ task, resolve: resolve as (value: unknown) => void, reject, retries })
      if (!this.current && !this.busy) this.next()
    })
  }

  /** Rejects every waiting command (the one in flight finishes) and refuses new ones, e.g. on stop. */
  close(reason = 'was stopped'): void {
    this.closedWith = new DeviceError(this.device, reason)
    const waiting = this.jobs.slice(this.head)
    this.jobs = []
    this.head = 0
    for (const job of waiting) job?.reject(this.closedWith)
  }

  /** Accepts commands again after {@link close}. */
  reopen(): void {
    this.closedWith = undefined
  }

  /** True while a retry's backoff is pending (no attempt in flight, but the queue is not free). */
  private busy = false

  private next(): void {
    const job = this.jobs[this.head]
    if (!job) {
      this.jobs = []
      this.head = 0
      return
    }
    this.jobs[this.head++] = undefined
    if (this.head > 1024 && this.head * 2 > this.jobs.length) {
      this.jobs = this.jobs.slice(this.head)
      this.head = 0
    }
    this.attempt(job, 1)
  }

  private attempt(job: Job, number: number): void {
    const attempt = new Attempt(job, number, performance.now() + this.timeoutMs)
    this.current = attempt
    this.busy = false
    this.armTimer()
    let pending: Promise<unknown>
    try {
      pending = job.task(attempt, number)
    } catch (error) {
      pending = Promise.reject(error)
    }
    pending.then(
      (value) => {
        if (this.current !== attempt) return // timed out already
        this.settle()
        job.resolve(value)
        this.next()
      },
      (error: unknown) => {
        if (this.current !== attempt) return
        this.settle()
        this.failed(attempt, error)
      },
    )
  }

  private failed(attempt: Attempt, error: unknown): void {
    const { job, number } = attempt
    if (number > job.retries || !this.isTransient(error)) {
      job.reject(
        error instanceof DeviceTimeoutError && number > 1
          ? new DeviceTimeoutError(this.device, this.timeoutMs, number)
          : error,
      )
      this.next()
      return
    }
    this.busy = true
    const wait = Math.min(5000, this.backoffMs * 2 ** (number - 1))
    if (wait > 0) setTimeout(() => this.attempt(job, number + 1), wait)
    else queueMicrotask(() => this.attempt(job, number + 1))
  }

  private settle(): void {
    this.current = undefined
    this.timer?.unref()
  }

  private armTimer(): void {
    if (this.timer) this.timer.refresh().ref()
    else this.timer = setTimeout(() => this.onTimer(), this.timeoutMs)
  }

  private onTimer(): void {
    const attempt = this.current
    if (!attempt) return // fired while idle: nothing in flight
    const left = attempt.deadline - performance.now()
    if (left > 1) {
      // Timer ticks are whole milliseconds, so it can fire a hair before the deadline. Check again then, with a
      // one-off timer: the shared one must keep its full duration for refresh().
      setTimeout(() => this.onTimer(), left)
      return
    }
    this.settle()
    const error = new DeviceTimeoutError(this.device, this.timeoutMs)
    attempt.abort(error)
    this.failed(attempt, error)
  }
}

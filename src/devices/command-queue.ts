import { DeviceError, DeviceTimeoutError, isTransientError } from './errors.js'

/**
 * The lease a command was issued under (the lock core's CallFence fits). The queue checks it as every attempt leaves
 * (the first, each retry, each try after waiting for a link) and withdraws the command once it ends.
 */
export interface CommandFence {
  /** The lease's fencing token. */
  readonly token: number
  /** True while the lease is still its holder's current lease. */
  readonly current: boolean
  /** The error a withdrawn command is rejected with. */
  refusal(): Error
  /** Calls `listener` once when the lease ends; returns a function that removes it. */
  onEnd(listener: () => void): () => void
}

/**
 * Thrown by a task whose way to the device is down for a reason outside the device (the MQTT broker is away): not
 * a failed attempt. The queue waits until `back` resolves, within the command's `linkWaitMs` and its fence, and
 * then tries again without counting an attempt.
 */
export class LinkDownError extends DeviceError {
  override name = 'LinkDownError'

  constructor(
    device: string,
    reason: string,
    /** Resolves when the link is worth trying again. */
    readonly back: Promise<void>,
  ) {
    super(device, `cannot be reached: ${reason}`)
  }
}

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
  /**
   * The longest a command waits, from when it was queued, for a link that is down ({@link LinkDownError}) before it
   * fails. Default 60 000 ms. A fenced command stops waiting sooner if its lease ends.
   */
  readonly linkWaitMs?: number
}

/** Per-command settings of {@link CommandQueue.run}. */
export interface RunOptions {
  /** Overrides the queue's retry count (e.g. 0 for a quick probe). */
  readonly retries?: number
  /** The lease the command was issued under: checked as each attempt leaves; the command is withdrawn when it ends. */
  readonly fence?: CommandFence | undefined
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

class Job {
  /** Set once the job's outcome is decided: a withdrawn job left in the array is skipped. */
  done = false
  /** Undoes the fence's end listener. */
  unlisten: (() => void) | undefined
  /** A retry or link wait pending for this job: cancelling it lets the job be withdrawn at once. */
  cancelWait: (() => void) | undefined

  constructor(
    readonly task: CommandTask<unknown>,
    private readonly onResolve: (value: unknown) => void,
    private readonly onReject: (error: unknown) => void,
    readonly retries: number,
    readonly fence: CommandFence | undefined,
    /**
     * When it was queued (performance.now()), for `linkWaitMs`. A job that starts at once takes its first attempt's
     * time instead: the clock read is a measurable part of a command's cost to a fast bulb.
     */
    public queuedAt: number | undefined,
  ) {}

  resolve(value: unknown): void {
    if (this.done) return
    this.finish()
    this.onResolve(value)
  }

  reject(error: unknown): void {
    if (this.done) return
    this.finish()
    this.onReject(error)
  }

  private finish(): void {
    this.done = true
    this.unlisten?.()
    this.unlisten = undefined
    this.cancelWait?.()
    this.cancelWait = undefined
  }
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
 * A command issued under a lock carries its lease ({@link RunOptions.fence}): each attempt checks it as it leaves, so
 * a retry or a command queued behind a hung one is never sent after the lease ended, and a command whose lease ends
 * while it waits is withdrawn at once (rejected with the fence's `FENCED` error).
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
  readonly linkWaitMs: number
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
    this.linkWaitMs = options.linkWaitMs ?? 60_000
  }

  /** Commands waiting, including the one being sent. */
  get size(): number {
    return this.jobs.length - this.head + (this.current ? 1 : 0)
  }

  /**
   * Queues `task`; resolves with its result, or rejects with its last error once retries are spent (or with the
   * fence's error once its lease ended before an attempt left).
   */
  run<T>(task: CommandTask<T>, options?: RunOptions): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith)
    const fence = options?.fence
    if (fence && !fence.current) return Promise.reject(fence.refusal())
    return new Promise<T>((resolve, reject) => {
      const retries = options?.retries ?? this.retries
      const startsNow = !this.current && !this.busy && this.head >= this.jobs.length
      const queuedAt = startsNow ? undefined : performance.now()
      const job = new Job(task, resolve as (value: unknown) => void, reject, retries, fence, queuedAt)
      if (fence) job.unlisten = fence.onEnd(() => this.withdraw(job))
      if (job.done) return
      this.jobs.push(job)
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
    // One between attempts (a retry's backoff, a wait for its link) is waiting too.
    const between = this.between
    if (between) {
      between.reject(this.closedWith)
      this.next()
    }
  }

  /**
   * A fenced job's lease ended: a job still waiting (queued, or between attempts) is rejected now and never sent. An
   * attempt already under way has left; it finishes, but is not retried.
   */
  private withdraw(job: Job): void {
    if (job.done || this.current?.job === job) return
    const wasWaiting = job.cancelWait !== undefined
    job.reject(job.fence!.refusal())
    // It was between attempts: the queue was held for it, so move on.
    if (wasWaiting) this.next()
  }

  /** Accepts commands again after {@link close}. */
  reopen(): void {
    this.closedWith = undefined
  }

  /** True while a retry's backoff is pending (no attempt in flight, but the queue is not free). */
  private busy = false
  /** The job between two attempts (a retry's backoff, or waiting for its link), while `busy`. */
  private between: Job | undefined

  private next(): void {
    this.busy = false
    this.between = undefined
    let job = this.jobs[this.head]
    // Withdrawn jobs stay in the array (removing them would be O(n)); skip them here.
    while (job?.done) {
      this.jobs[this.head++] = undefined
      job = this.jobs[this.head]
    }
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
    job.cancelWait = undefined
    this.between = undefined
    if (job.done) return // withdrawn while it waited; `withdraw` moved the queue on
    if (job.fence && !job.fence.current) {
      job.reject(job.fence.refusal())
      this.next()
      return
    }
    const now = performance.now()
    job.queuedAt ??= now
    const attempt = new Attempt(job, number, now + this.timeoutMs)
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
    if (job.done) {
      this.next()
      return
    }
    if (job.fence && !job.fence.current) {
      // Its lease ended while the attempt was out: no retry, no waiting.
      job.reject(job.fence.refusal())
      this.next()
      return
    }
    if (error instanceof LinkDownError) {
      this.waitForLink(job, number, error)
      return
    }
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
    this.between = job
    const wait = Math.min(5000, this.backoffMs * 2 ** (number - 1))
    if (wait > 0) {
      const timer = setTimeout(() => this.attempt(job, number + 1), wait)
      job.cancelWait = () => clearTimeout(timer)
    } else {
      job.cancelWait = () => {}
      queueMicrotask(() => this.attempt(job, number + 1))
    }
  }

  /**
   * The link to the device is down: not the device's failure. Holds the queue (commands keep their order) until the
   * link is back, then tries the same attempt again; gives up with the error after `linkWaitMs` from queueing.
   */
  private waitForLink(job: Job, number: number, error: LinkDownError): void {
    const left = job.queuedAt! + this.linkWaitMs - performance.now()
    if (left <= 0) {
      job.reject(error)
      this.next()
      return
    }
    this.busy = true
    this.between = job
    let waiting = true
    const timer = setTimeout(() => {
      if (!waiting) return
      waiting = false
      job.cancelWait = undefined
      job.reject(error)
      this.next()
    }, left)
    timer.unref()
    job.cancelWait = () => {
      waiting = false
      clearTimeout(timer)
    }
    void error.back.then(() => {
      if (!waiting) return
      waiting = false
      clearTimeout(timer)
      this.attempt(job, number)
    })
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

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

/** One attempt of a command; `signal` aborts when the attempt timed out, so the adapter can stop waiting. */
export type CommandTask<T> = (signal: AbortSignal, attempt: number) => Promise<T>

interface Job {
  readonly task: CommandTask<unknown>
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
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
  private jobs: Job[] = []
  private head = 0
  private running = false
  private closedWith: Error | undefined

  constructor(options: CommandQueueOptions) {
    this.device = options.device
    this.timeoutMs = options.timeoutMs ?? 2000
    this.retries = options.retries ?? 2
    this.backoffMs = options.backoffMs ?? 100
    this.isTransient = options.isTransient ?? isTransientError
  }

  /** Commands waiting, including the one being sent. */
  get size(): number {
    return this.jobs.length - this.head + (this.running ? 1 : 0)
  }

  /** Queues `task`; resolves with its result, or rejects with its last error once retries are spent. */
  run<T>(task: CommandTask<T>): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith)
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ task, resolve: resolve as (value: unknown) => void, reject })
      if (!this.running) void this.drain()
    })
  }

  /** Rejects every waiting command (the one in flight finishes) and refuses new ones, e.g. on stop. */
  close(reason = 'was stopped'): void {
    this.closedWith = new DeviceError(this.device, reason)
    const waiting = this.jobs.slice(this.head)
    this.jobs = []
    this.head = 0
    for (const job of waiting) job.reject(this.closedWith)
  }

  /** Accepts commands again after {@link close}. */
  reopen(): void {
    this.closedWith = undefined
  }

  private async drain(): Promise<void> {
    this.running = true
    while (this.head < this.jobs.length) {
      const job = this.jobs[this.head]!
      this.jobs[this.head++] = undefined as unknown as Job
      if (this.head > 1024 && this.head * 2 > this.jobs.length) {
        this.jobs = this.jobs.slice(this.head)
        this.head = 0
      }
      try {
        job.resolve(await this.attempt(job.task))
      } catch (error) {
        job.reject(error)
      }
    }
    this.running = false
  }

  private async attempt(task: CommandTask<unknown>): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.withTimeout(task, attempt)
      } catch (error) {
        if (attempt > this.retries || !this.isTransient(error)) {
          if (error instanceof DeviceTimeoutError && attempt > 1)
            throw new DeviceTimeoutError(this.device, this.timeoutMs, attempt)
          throw error
        }
        const wait = Math.min(5000, this.backoffMs * 2 ** (attempt - 1))
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      }
    }
  }

  private withTimeout(task: CommandTask<unknown>, attempt: number): Promise<unknown> {
    const controller = new AbortController()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        controller.abort()
        reject(new DeviceTimeoutError(this.device, this.timeoutMs))
      }, this.timeoutMs)
      let pending: Promise<unknown>
      try {
        pending = task(controller.signal, attempt)
      } catch (error) {
        pending = Promise.reject(error)
      }
      pending.then(
        (value) => {
          clearTimeout(timer)
          resolve(value)
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error)
        },
      )
    })
  }
}

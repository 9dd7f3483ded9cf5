import { afterEach, describe, expect, it, vi } from 'vitest'
import { CommandQueue } from '../../src/devices/command-queue.js'
import { DeviceCommandError, DeviceTimeoutError, TransientDeviceError } from '../../src/devices/errors.js'

const device = 'bath_bulb (kasa 192.168.1.40)'

describe('CommandQueue', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('runs commands in issue order, never two at once', async () => {
    const queue = new CommandQueue({ device })
    const started: number[] = []
    let running = 0
    let most = 0
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        queue.run(async () => {
          started.push(n)
          most = Math.max(most, ++running)
          await Promise.resolve()
          running--
          return n * 10
        }),
      ),
    )
    expect(started).toEqual([1, 2, 3, 4, 5])
    expect(results).toEqual([10, 20, 30, 40, 50])
    expect(most).toBe(1)
    expect(queue.size).toBe(0)
  })

  it('times an attempt out with an error naming the device', async () => {
    vi.useFakeTimers()
    const queue = new CommandQueue({ device, timeoutMs: 2000, retries: 0 })
    let aborted = false
    const pending = queue.run((signal) => {
      signal.onAbort(() => (aborted = true))
      return new Promise(() => {})
    })
    const outcome = pending.catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(2000)
    const error = await outcome
    expect(error).toBeInstanceOf(DeviceTimeoutError)
    expect(String(error)).toBe('DeviceTimeoutError: bath_bulb (kasa 192.168.1.40) did not answer within 2000 ms')
    expect(aborted).toBe(true)
  })

  it('offers a standard AbortSignal that follows the attempt, made on demand', async () => {
    vi.useFakeTimers()
    const queue = new CommandQueue({ device, timeoutMs: 50, retries: 0 })
    let signal: AbortSignal | undefined
    let late = false
    const pending = queue
      .run((commandSignal) => {
        signal = commandSignal.abortSignal
        return new Promise<void>((resolve) =>
          commandSignal.onAbort(() => {
            commandSignal.onAbort(() => (late = true)) // added after the abort: runs at once
            resolve()
          }),
        )
      })
      .catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(50)
    expect(await pending).toBeInstanceOf(DeviceTimeoutError)
    expect(signal?.aborted).toBe(true)
    expect(signal?.reason).toBeInstanceOf(DeviceTimeoutError)
    expect(late).toBe(true)
  })

  it('gives every attempt its full timeout, however many commands ran before it', async () => {
    vi.useFakeTimers()
    const queue = new CommandQueue({ device, timeoutMs: 2000, retries: 0 })
    for (let i = 0; i < 3; i++) {
      await queue.run(async () => i)
      await vi.advanceTimersByTimeAsync(700)
    }
    let settled = false
    const hung = queue
      .run(() => new Promise(() => {}))
      .catch((error: unknown) => {
        settled = true
        return error
      })
    await vi.advanceTimersByTimeAsync(1999)
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(await hung).toBeInstanceOf(DeviceTimeoutError)
    const second = queue.run(() => new Promise(() => {})).catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(2000)
    expect(await second).toBeInstanceOf(DeviceTimeoutError)
  })

  it('retries transient failures with doubling backoff, and gives up after the last retry', async () => {
    vi.useFakeTimers()
    const queue = new CommandQueue({ device, retries: 2, backoffMs: 100 })
    const attempts: { attempt: number; at: number }[] = []
    const flaky = queue.run(async (_signal, attempt) => {
      attempts.push({ attempt, at: Date.now() })
      if (attempt < 3) throw new TransientDeviceError(device, 'lost frame')
      return 'ok'
    })
    const start = Date.now()
    await vi.advanceTimersByTimeAsync(300)
    await expect(flaky).resolves.toBe('ok')
    expect(attempts.map((a) => [a.attempt, a.at - start])).toEqual([
      [1, 0],
      [2, 100],
      [3, 300],
    ])
    const hopeless = queue.run(() =>
      Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    )
    const outcome = hopeless.catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(300)
    expect(await outcome).toMatchObject({ code: 'ECONNREFUSED' })
  })

  it('lets one command override the retry count (a quick probe)', async () => {
    const queue = new CommandQueue({ device, retries: 3, backoffMs: 0 })
    let calls = 0
    const failing = async () => {
      calls++
      throw new TransientDeviceError(device, 'lost frame')
    }
    await expect(queue.run(failing, { retries: 0 })).rejects.toThrow(TransientDeviceError)
    expect(calls).toBe(1)
    await expect(queue.run(failing)).rejects.toThrow(TransientDeviceError)
    expect(calls).toBe(5)
  })

  it('does not retry a refusal', async () => {
    const queue = new CommandQueue({ device, backoffMs: 0 })
    let calls = 0
    await expect(
      queue.run(async () => {
        calls++
        throw new DeviceCommandError(device, 'refused the command')
      }),
    ).rejects.toThrow('bath_bulb (kasa 192.168.1.40) refused the command')
    expect(calls).toBe(1)
  })

  it('treats a task that throws synchronously like a failed attempt', async () => {
    const queue = new CommandQueue({ device })
    await expect(
      queue.run(() => {
        throw new DeviceCommandError(device, 'bad')
      }),
    ).rejects.toThrow(DeviceCommandError)
    await expect(queue.run(async () => 'next')).resolves.toBe('next')
  })

  it('keeps a hung device from delaying another device', async () => {
    const hung = new CommandQueue({ device: 'stuck (sim)', timeoutMs: 60_000 })
    const healthy = new CommandQueue({ device: 'fine (sim)' })
    let release = () => {}
    const stuck = hung.run(() => new Promise<void>((resolve) => (release = resolve)))
    const behind = hung.run(async () => 'behind')
    await expect(Promise.all([1, 2, 3].map((n) => healthy.run(async () => n)))).resolves.toEqual([1, 2, 3])
    expect(hung.size).toBe(2)
    release()
    await stuck
    await expect(behind).resolves.toBe('behind')
  })

  it('rejects waiting commands on close and refuses new ones until reopened', async () => {
    const queue = new CommandQueue({ device })
    let release = () => {}
    const inFlight = queue.run(() => new Promise<string>((resolve) => (release = () => resolve('done'))))
    const waiting = queue.run(async () => 'never')
    queue.close()
    await expect(waiting).rejects.toThrow('bath_bulb (kasa 192.168.1.40) was stopped')
    await expect(queue.run(async () => 'x')).rejects.toThrow('was stopped')
    release()
    await expect(inFlight).resolves.toBe('done')
    queue.reopen()
    await expect(queue.run(async () => 'again')).resolves.toBe('again')
  })
})

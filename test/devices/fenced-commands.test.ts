/**
 * Every command carries the lease it was issued under: the queue checks it as each attempt leaves (the first, each
 * retry), and withdraws a command whose lease ended while it waited. Issue 13.1: "the command queue retries a
 * timed-out command without checking the lease".
 */
import { describe, expect, it } from 'vitest'
import { CommandQueue, type CommandFence } from '../../src/devices/command-queue.js'
import { fenceOf } from '../../src/devices/queued-bulb.js'
import { TransientDeviceError } from '../../src/devices/errors.js'
import { SimBulb } from '../../src/devices/sim/sim-bulb.js'
import genLock, { type LockError } from '../../src/index.js'

const device = 'bath_bulb (test)'

function deferred<T = void>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((done) => (resolve = done))
  return { promise, resolve }
}

/** A lease that ends when the test says so. */
function testFence(token = 1): CommandFence & { end(): void } {
  let current = true
  const listeners = new Set<() => void>()
  return {
    token,
    get current() {
      return current
    },
    refusal: () => new Error(`lease ${token} is over`),
    onEnd(listener) {
      if (!current) listener()
      else listeners.add(listener)
      return () => listeners.delete(listener)
    },
    end() {
      current = false
      for (const listener of listeners) listener()
    },
  }
}

describe('fenced commands in the command queue', () => {
  it('does not retry a command whose lease ended while its failed attempt waited for the retry', async () => {
    const queue = new CommandQueue({ device, retries: 2, backoffMs: 50 })
    const fence = testFence()
    const failed = deferred()
    let attempts = 0
    const result = queue.run(
      () => {
        attempts++
        if (attempts === 1) {
          failed.resolve()
          return Promise.reject(new TransientDeviceError(device, 'radio frame lost'))
        }
        return Promise.resolve('sent again')
      },
      { fence },
    )
    await failed.promise
    fence.end()
    await expect(result).rejects.toThrow('lease 1 is over')
    expect(attempts).toBe(1)
    // The queue moved on: the next command goes at once.
    expect(await queue.run(() => Promise.resolve('next'))).toBe('next')
  })

  it('withdraws a queued command the moment its lease ends; it never reaches the device', async () => {
    const queue = new CommandQueue({ device })
    const hung = deferred<string>()
    const fence = testFence()
    const sent: string[] = []
    const first = queue.run(() => {
      sent.push('first')
      return hung.promise
    })
    const stale = queue.run(
      () => {
        sent.push('stale')
        return Promise.resolve('stale')
      },
      { fence },
    )
    const later = queue.run(() => {
      sent.push('later')
      return Promise.resolve('later')
    })
    fence.end()
    await expect(stale).rejects.toThrow('lease 1 is over')
    hung.resolve('first')
    expect(await Promise.all([first, later])).toEqual(['first', 'later'])
    expect(sent).toEqual(['first', 'later'])
  })

  it('refuses a command whose lease is already over without queueing it', async () => {
    const queue = new CommandQueue({ device })
    const fence = testFence()
    fence.end()
    let ran = false
    await expect(queue.run(() => Promise.resolve((ran = true)), { fence })).rejects.toThrow('lease 1 is over')
    expect(ran).toBe(false)
  })
})

describe('fenced commands through a lock', () => {
  it("withdraws a preempted run's queued commands behind a hung one; the bulb gets only the new holder's", async () => {
    const bulb = new SimBulb({ id: 'bath_bulb' })
    await bulb.start()
    const lock = genLock()
    bulb.setHung(true)
    const lowDone = deferred<unknown[]>()
    const low = lock
      .newLocker('bath_bulb', bulb)
      .promise(function* (handle) {
        const commands = [handle.setColor('blue'), handle.setBrightness(10), handle.setColor('green')]
        void Promise.allSettled(commands).then((outcomes) =>
          lowDone.resolve(outcomes.map((o) => (o.status === 'fulfilled' ? 'applied' : (o.reason as LockError).code))),
        )
        yield Promise.all(commands)
      })
      .catch((error: unknown) => (error as LockError).code)
    const high = lock.newLocker('bath_bulb', bulb, { priority: 1 }).promise(function* (handle) {
      yield handle.setColor('red')
    })
    bulb.setHung(false)
    await high
    expect(await low).toBe('PREEMPTED')
    // Blue was out (sent) before the preemption; the two queued behind it were withdrawn, never sent.
    expect(await lowDone.promise).toEqual(['applied', 'FENCED', 'FENCED'])
    const log = bulb.commandLog
    expect(log.map((entry) => entry.command)).toEqual([
      { on: true, color: 'blue' },
      { on: true, color: 'red' },
    ])
    // Each command carried the fencing token of the lease it was issued under.
    expect(log[0]!.origin!.token).toBeLessThan(log[1]!.origin!.token!)
    await bulb.stop()
  })

  it("keeps no run alive through the sim bulb's command log (issue 18: 2,000 finished runs held after 10,000 triggers)", async () => {
    const bulb = new SimBulb({ id: 'bath_bulb' })
    await bulb.start()
    await genLock()
      .newLocker('bath_bulb', bulb)
      .promise(function* (handle) {
        yield handle.setColor('red')
      })
    const [entry] = bulb.commandLog
    expect(entry!.origin).toEqual({ holder: expect.any(String), token: expect.any(Number) })
    // A fenced handle's origin keys its fence (and through it the run) in a WeakMap: the log must hold a copy.
    expect(fenceOf(entry!.origin)).toBeUndefined()
    await bulb.stop()
  })
})

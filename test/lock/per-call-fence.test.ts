/**
 * The fence is per call: each call through a fenced handle is issued under the lease the code making it was started
 * under (the transaction step, or the `.then` chain or timer that step created), not the run's lease of the moment.
 */
import { describe, expect, it } from 'vitest'
import genLock, { alwaysResume, fencedView, LockError, type CallFence } from '../../src/index.js'
import { deferred, nextLockEvent } from './helpers.js'

function device() {
  const reached: string[] = []
  return {
    reached,
    async set(value: string) {
      reached.push(value)
      return value
    },
  }
}

describe('per-call fence', () => {
  it('refuses a .then chain started before a preemption once the same run has resumed under a new lease', async () => {
    const lock = genLock()
    const bulb = device()
    const firstCall = deferred()
    const chainEnded = deferred<unknown>()
    const lowLocker = lock.newLocker('bulb', bulb)
    const low = alwaysResume(
      lowLocker.promise(function* (handle) {
        yield handle.set('first')
        // Started under lease 1; runs only after the run has been preempted and has resumed under lease 2.
        yield firstCall.promise
          .then(
            () => handle.set('stale, from lease 1'),
            (error: unknown) => error,
          )
          .then(chainEnded.resolve, chainEnded.resolve)
        yield handle.set('fresh, under lease 2')
      }),
    )
    await Promise.resolve()
    const resumed = nextLockEvent(lock.protocol, (e) => e.type === 'acquired' && e.lockerGuid === lowLocker.lockerGuid)
    await lock.newLocker('bulb', bulb, { priority: 1 }).promise(function* (handle) {
      yield handle.set('alarm')
    })
    await resumed
    firstCall.resolve()
    const outcome = await chainEnded.promise
    await low
    expect(outcome).toBeInstanceOf(LockError)
    expect((outcome as LockError).code).toBe('FENCED')
    expect(bulb.reached).toEqual(['first', 'alarm', 'fresh, under lease 2'])
  })

  it('refuses a timer a step set before the preemption, after the run resumed', async () => {
    const lock = genLock()
    const bulb = device()
    const fire = deferred()
    const fired = deferred<unknown>()
    const lowLocker = lock.newLocker('bulb', bulb)
    const low = alwaysResume(
      lowLocker.promise(function* (handle, ctx) {
        const started = ctx.token
        void fire.promise.then(() =>
          setImmediate(() => {
            try {
              fired.resolve(handle.set(`timer from token ${started}`))
            } catch (error) {
              fired.resolve(error)
            }
          }),
        )
        // Still running (under lease 2) when the timer fires.
        yield fired.promise
      }),
    )
    const resumed = nextLockEvent(lock.protocol, (e) => e.type === 'acquired' && e.lockerGuid === lowLocker.lockerGuid)
    await lock.newLocker('bulb', bulb, { priority: 1 }).promise(function* (handle) {
      yield handle.set('alarm')
    })
    await resumed
    fire.resolve()
    expect(await fired.promise).toMatchObject({ code: 'FENCED' })
    await low
    expect(bulb.reached).toEqual(['alarm'])
  })

  it("hands a fence-aware resource each call's fence: its token, and whether its lease is still current", async () => {
    const lock = genLock()
    const fences: [string, CallFence][] = []
    const bulb = {
      [fencedView]: (fence: CallFence) => ({
        set: async (value: string) => {
          fences.push([value, fence])
          return value
        },
      }),
      set: async (value: string) => value,
    }
    const lowLocker = lock.newLocker('bulb', bulb)
    const gate = deferred()
    const low = alwaysResume(
      lowLocker.promise(function* (handle) {
        yield handle.set('low 1')
        yield gate.promise
        yield handle.set('low 2')
      }),
    )
    await Promise.resolve()
    const resumed = nextLockEvent(lock.protocol, (e) => e.type === 'acquired' && e.lockerGuid === lowLocker.lockerGuid)
    await lock.newLocker('bulb', bulb, { priority: 1 }).promise(function* (handle) {
      yield handle.set('high')
    })
    await resumed
    gate.resolve()
    await low
    const [[, first], [, high], [, second]] = fences as [[string, CallFence], [string, CallFence], [string, CallFence]]
    expect(fences.map(([value]) => value)).toEqual(['low 1', 'high', 'low 2'])
    expect(first.token).toBeLessThan(high.token)
    expect(high.token).toBeLessThan(second.token)
    expect(first.holder).toBe(lowLocker.lockerGuid)
    // Every lease has ended by now: none of these calls' fences lets anything through any more.
    expect([first.current, high.current, second.current]).toEqual([false, false, false])
    expect(first.refusal()).toMatchObject({ code: 'FENCED', message: expect.stringMatching(/PREEMPTED/) })
  })

  it('tells a fence-aware resource the moment a call’s lease ends', async () => {
    const lock = genLock()
    let seen: CallFence | undefined
    const ended = deferred()
    const bulb = {
      [fencedView]: (fence: CallFence) => ({
        set: () => {
          seen = fence
          fence.onEnd(() => ended.resolve())
          return new Promise(() => {}) // a bulb that never answers
        },
      }),
      set: () => Promise.resolve(),
    }
    const low = lock
      .newLocker('bulb', bulb)
      .promise(function* (handle) {
        yield handle.set()
      })
      .catch((error: unknown) => error)
    await Promise.resolve()
    expect(seen?.current).toBe(true)
    await lock.newLocker('bulb', null, { priority: 1 }).promise(function* () {})
    await ended.promise
    expect(seen?.current).toBe(false)
    expect(await low).toMatchObject({ code: 'PREEMPTED' })
  })
})

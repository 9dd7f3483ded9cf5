import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Poller } from '../../src/devices/poller.js'

describe('Poller (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  /** A poller whose reads answer as `answers` says, recording when each read happened. */
  function pollerWith(answers: () => boolean, busy: () => boolean = () => false) {
    const reads: number[] = []
    const start = Date.now()
    const poller = new Poller({
      intervalMs: 5000,
      maxIntervalMs: 60_000,
      busy,
      poll: async () => {
        reads.push(Date.now() - start)
        return answers()
      },
    })
    return { poller, reads }
  }

  it('reads every interval while the bulb answers', async () => {
    const { poller, reads } = pollerWith(() => true)
    poller.start()
    await vi.advanceTimersByTimeAsync(20_000)
    expect(reads).toEqual([5000, 10_000, 15_000, 20_000])
    poller.stop()
    await vi.advanceTimersByTimeAsync(20_000)
    expect(reads).toHaveLength(4)
  })

  it('backs off while the bulb is unreachable, up to the cap, and returns to the interval once it answers', async () => {
    let reachable = false
    const { poller, reads } = pollerWith(() => reachable)
    poller.start()
    await vi.advanceTimersByTimeAsync(5000 + 10_000 + 20_000 + 40_000 + 60_000 + 60_000)
    // Gaps 10, 20, 40 s, then capped at 60 s.
    expect(reads).toEqual([5000, 15_000, 35_000, 75_000, 135_000, 195_000])
    reachable = true
    await vi.advanceTimersByTimeAsync(60_000 + 5000)
    expect(reads.slice(-2)).toEqual([255_000, 260_000])
    poller.stop()
  })

  it('waits while a command is in flight, then reads', async () => {
    let busy = true
    const { poller, reads } = pollerWith(
      () => true,
      () => busy,
    )
    poller.start()
    await vi.advanceTimersByTimeAsync(5000 + 250 * 3)
    expect(reads).toEqual([])
    busy = false
    await vi.advanceTimersByTimeAsync(250)
    expect(reads).toEqual([6000])
    poller.stop()
  })

  it('never reads twice at once: a slow read delays the next one', async () => {
    let release: () => void = () => {}
    let inFlight = 0
    let most = 0
    const poller = new Poller({
      intervalMs: 1000,
      busy: () => false,
      poll: () => {
        most = Math.max(most, ++inFlight)
        return new Promise<boolean>((resolve) => {
          release = () => {
            inFlight--
            resolve(true)
          }
        })
      },
    })
    poller.start()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(most).toBe(1)
    release()
    await vi.advanceTimersByTimeAsync(1000)
    expect(most).toBe(1)
    expect(inFlight).toBe(1)
    poller.stop()
  })
})

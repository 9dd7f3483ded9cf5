/**
 * The Redis protocol's heartbeat timing, without Redis: fake timers drive the clock and the host is a
 * recording stand-in for the protocol (what a renewal sends is the protocol's, tested against real Redis).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Heartbeat, type Epoch, type HeartbeatHost } from '../../src/lock/redis/heartbeat.js'

const LEASE = 3000
const RENEW_EVERY = 1000
const DRIFT = 32

interface Recorder {
  heartbeat: Heartbeat<string>
  renewals: number[]
  expired: { leases: string[]; reason: string }[]
  /** What the next renewals do; by default the server answers at once and extends from the send time. */
  answer: (sent: number) => Promise<boolean>
}

function setup(): Recorder {
  const recorder = {} as Recorder
  recorder.renewals = []
  recorder.expired = []
  const host: HeartbeatHost<string> = {
    renew: () => {
      const sent = recorder.heartbeat.now()
      recorder.renewals.push(sent)
      return recorder.answer(sent)
    },
    expire: (epoch: Epoch<string>, reason: string) => {
      recorder.expired.push({ leases: [...epoch.leases], reason })
      epoch.leases.clear()
    },
  }
  recorder.answer = (sent) => {
    recorder.heartbeat.extend(sent)
    return Promise.resolve(true)
  }
  recorder.heartbeat = new Heartbeat<string>(
    { lease: LEASE, renewEvery: RENEW_EVERY, drift: DRIFT, clock: () => Date.now() },
    host,
  )
  return recorder
}

describe('Redis heartbeat (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: 0 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('renews every renewEvery while there is work, and stops once the host says it is idle', async () => {
    const r = setup()
    r.heartbeat.keepAlive()
    await vi.advanceTimersByTimeAsync(3500)
    expect(r.renewals).toEqual([1000, 2000, 3000])
    r.answer = () => Promise.resolve(false)
    await vi.advanceTimersByTimeAsync(5000)
    expect(r.renewals).toEqual([1000, 2000, 3000, 4000])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('keeps a lease good until send time + lease - drift, and moves that on with each renewal', async () => {
    const r = setup()
    r.heartbeat.extend(0)
    const epoch = r.heartbeat.join('a')
    expect(epoch.deadline).toBe(LEASE - DRIFT)
    r.heartbeat.keepAlive()
    await vi.advanceTimersByTimeAsync(1000)
    expect(epoch.deadline).toBe(1000 + LEASE - DRIFT)
    expect(r.heartbeat.alive).toBe(true)
    expect(r.expired).toEqual([])
  })

  it('loses the leases of an epoch whose renewals stop answering, at its deadline and not before', async () => {
    const r = setup()
    r.heartbeat.extend(0)
    r.heartbeat.join('a')
    r.heartbeat.join('b')
    r.answer = () => new Promise(() => {}) // Redis hangs
    r.heartbeat.keepAlive()
    await vi.advanceTimersByTimeAsync(LEASE - DRIFT - 1)
    expect(r.expired).toEqual([])
    expect(r.heartbeat.alive).toBe(true)
    await vi.advanceTimersByTimeAsync(1)
    expect(r.heartbeat.alive).toBe(false)
    expect(r.expired).toEqual([{ leases: ['a', 'b'], reason: `the Redis lease was not renewed within ${LEASE} ms` }])
    // Only one renewal was ever in flight: the ones due while it hung were folded into it.
    expect(r.renewals).toEqual([1000])
  })

  it('never revives an epoch that ran out: a late answer opens a new one', async () => {
    const r = setup()
    r.heartbeat.extend(0)
    const old = r.heartbeat.join('a')
    let answerLate!: () => void
    r.answer = (sent) =>
      new Promise((resolve) => {
        answerLate = () => {
          r.heartbeat.extend(sent)
          resolve(true)
        }
      })
    r.heartbeat.keepAlive()
    await vi.advanceTimersByTimeAsync(LEASE)
    expect(r.expired.map((e) => e.leases)).toEqual([['a']])
    answerLate() // sent at 1000: would have been good until 3968, but the epoch is over
    await vi.advanceTimersByTimeAsync(0)
    expect(r.heartbeat.epoch).not.toBe(old)
    expect(old.alive).toBe(false)
    expect(r.heartbeat.epoch.deadline).toBe(1000 + LEASE - DRIFT)
  })

  it('folds a renewal asked for while one is in flight into one more right after it', async () => {
    const r = setup()
    let finish!: () => void
    r.answer = (sent) =>
      new Promise((resolve) => {
        finish = () => {
          r.heartbeat.extend(sent)
          resolve(true)
        }
      })
    r.heartbeat.renewIn(0)
    await vi.advanceTimersByTimeAsync(0)
    expect(r.renewals).toEqual([0])
    r.heartbeat.renewIn(0)
    r.heartbeat.renewIn(0)
    await vi.advanceTimersByTimeAsync(10)
    expect(r.renewals).toEqual([0])
    r.answer = (sent) => {
      r.heartbeat.extend(sent)
      return Promise.resolve(true)
    }
    finish()
    await vi.advanceTimersByTimeAsync(0)
    expect(r.renewals).toEqual([0, 10])
  })

  it('lets the earliest request win: wakeAt before the periodic renewal, not after', async () => {
    const r = setup()
    r.heartbeat.keepAlive()
    r.heartbeat.wakeAt(200) // another client's heartbeat runs out in 200 ms
    r.heartbeat.wakeAt(5000) // later: changes nothing
    r.heartbeat.wakeAt(-1) // nobody else: changes nothing
    await vi.advanceTimersByTimeAsync(1500)
    expect(r.renewals).toEqual([201, 1201])
  })

  it('lapse ends the epoch at once (connection lost), and stop clears every timer', async () => {
    const r = setup()
    r.heartbeat.extend(0)
    r.heartbeat.join('a')
    r.heartbeat.keepAlive()
    r.heartbeat.lapse('the connection to Redis was lost')
    expect(r.expired).toEqual([{ leases: ['a'], reason: 'the connection to Redis was lost' }])
    expect(r.heartbeat.alive).toBe(false)
    r.heartbeat.join('b')
    r.heartbeat.stop()
    expect(vi.getTimerCount()).toBe(0)
    r.heartbeat.keepAlive()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('does not take a reply to a command sent before the connection dropped as news from the server', async () => {
    const r = setup()
    r.heartbeat.extend(0)
    await vi.advanceTimersByTimeAsync(100)
    const sentBeforeDrop = r.heartbeat.now()
    await vi.advanceTimersByTimeAsync(10)
    r.heartbeat.lapse('the connection to Redis was lost')
    await vi.advanceTimersByTimeAsync(10)
    // Its reply is read after the drop: the server that sent it may have restarted and forgotten what it said.
    expect(r.heartbeat.extend(sentBeforeDrop)).toBe(false)
    expect(r.heartbeat.alive).toBe(false)
    // A command sent after the drop speaks for the server as it is now.
    expect(r.heartbeat.extend(r.heartbeat.now())).toBe(true)
    expect(r.heartbeat.alive).toBe(true)
  })
})

/**
 * The original gen-lock README's two examples, as written there (in TypeScript), against a simulated bulb
 * and a simulated video pipeline. The seed's own code could not run them: its `.recover()` returned nothing.
 */
import { describe, expect, it } from 'vitest'
import genLock, { call, LockError } from '../../src/index.js'
import { deferred } from './helpers.js'

/** Each command takes a macrotask turn, like a network round trip, and is logged with the issuing mode. */
class SimulatedBulb {
  readonly log: string[] = []
  private color = 'white'
  private brightness = 100
  private waiters: (() => void)[] = []

  private async command(entry: string) {
    await new Promise((resolve) => setImmediate(resolve))
    this.log.push(entry)
    this.waiters.splice(0).forEach((wake) => wake())
  }

  setColor(color: string) {
    this.color = color
    return this.command(`color ${color}`)
  }

  setBrightness(percent: number) {
    this.brightness = percent
    return this.command(`brightness ${percent}`)
  }

  async getStatus() {
    return `${this.color}/${this.brightness}`
  }

  /** Resolves once the log satisfies `done` (checked after every command). */
  until(done: (log: string[]) => boolean): Promise<void> {
    if (done(this.log)) return Promise.resolve()
    return new Promise((resolve) => {
      const check = () => (done(this.log) ? resolve() : this.waiters.push(check))
      this.waiters.push(check)
    })
  }
}

describe('seed Example 1: share a smart bulb', () => {
  it('lets the alarm hijack party mode, then party mode resumes where it left off', async () => {
    const bulb = new SimulatedBulb()
    const newLocker = genLock().newLocker
    const partyModeLock = newLocker('bath_bulb', bulb)
    const securityLock = newLocker('bath_bulb', bulb, { priority: 2 })

    let partying = true
    let alarmChecks = 0
    const alarmIsTripped = () => alarmChecks++ < 2

    function* rainbowsTransaction(b: SimulatedBulb) {
      while (partying) {
        yield b.setColor('red')
        yield b.setColor('blue')
        yield b.setColor('yellow')
      }
    }

    function* alarmTransaction(b: SimulatedBulb) {
      while (alarmIsTripped()) {
        yield b.setBrightness(50)
        yield b.setBrightness(100)
      }
      return yield* call(b.getStatus())
    }

    const errors: string[] = []
    const party = partyModeLock
      .promise(rainbowsTransaction)
      .recover((recovery) => recovery.resume())
      .catch(() => errors.push('Bulb broke, rainbow time is over :-( '))

    // Take over right after party mode has sent "blue".
    await bulb.until((log) => log.at(-1) === 'color blue')
    let alarmStatus: unknown
    const alarm = securityLock
      .promise(alarmTransaction)
      .then((status) => (alarmStatus = status))
      .recover((ops) => ops.restart())
      .catch(() => errors.push('Somebody broke the bulb!!!'))
    await alarm
    await bulb.until((log) => log.filter((entry) => entry === 'color red').length >= 2)
    partying = false
    await party

    expect(errors).toEqual([])
    expect(alarmStatus).toBe('blue/100')
    const alarmAt = bulb.log.indexOf('brightness 50')
    // While the alarm holds the bulb, only the alarm talks to it; then party mode resumes after its last
    // yield ("blue"), so its next command is "yellow", not a restart from "red".
    expect(bulb.log.slice(alarmAt - 1, alarmAt + 5)).toEqual([
      'color blue',
      'brightness 50',
      'brightness 100',
      'brightness 50',
      'brightness 100',
      'color yellow',
    ])
  })
})

describe('seed Example 2: prioritized and decentralized queuing', () => {
  it('spreads videos evenly across workers, each processed exactly once, losers giving up at once', async () => {
    const stored: string[] = []
    const storedNow = new Map<string, () => void>()
    const deleted: string[] = []
    const listeners: ((videoId: string) => void)[] = []
    const subscription = { listenForNewVideo: (listener: (videoId: string) => void) => listeners.push(listener) }
    const tick = () => new Promise((resolve) => setImmediate(resolve))
    const loadVideo = async (id: string) => (await tick(), { id })
    const processVideoData = async (video: { id: string }) => (await tick(), { ...video, processed: true })
    const storeVideo = async (video: { id: string }) => {
      await tick()
      stored.push(video.id)
      storedNow.get(video.id)?.()
    }
    const deleteVideo = async (id: string) => (await tick(), deleted.push(id))

    const { newLocker } = genLock()
    const processedBy: Record<string, string[]> = {}
    const giveUps: string[] = []
    let preemptions = 0

    function startWorker(name: string) {
      let processedCount = 0
      processedBy[name] = []

      function* processVideo(videoId: string) {
        const video = yield* call(loadVideo(videoId))
        const processed = yield* call(processVideoData(video))
        yield storeVideo(processed)
      }

      function* rollback(videoId: string) {
        yield deleteVideo(videoId)
      }

      const key = (videoId: string) => 'video-' + videoId

      // Settles once this worker has dealt with all six videos (processed, or given up on).
      return new Promise<void>((finished) => {
        let settled = 0
        subscription.listenForNewVideo((videoId) => {
          const locker = newLocker(key(videoId), videoId, {
            priority: -processedCount,
            maxAquireAttempts: 1,
          })
          locker
            .promise(processVideo)
            .then(() => {
              processedCount++
              processedBy[name]!.push(videoId)
            })
            .recover((recovery) => (preemptions++, recovery.replace(rollback)))
            .catch((error: unknown) => {
              if (error instanceof LockError) giveUps.push(`${name}:${videoId}:${error.code}`)
            })
            .finally(() => ++settled === 6 && finished())
        })
      })
    }

    const workers = ['p1', 'p2', 'p3'].map(startWorker)
    for (let i = 1; i <= 6; i++) {
      const id = `v${i}`
      const done = deferred()
      storedNow.set(id, done.resolve)
      listeners.forEach((listener) => listener(id))
      await done.promise
    }
    await Promise.all(workers)

    expect(stored.sort()).toEqual(['v1', 'v2', 'v3', 'v4', 'v5', 'v6'])
    expect(Object.values(processedBy).map((ids) => ids.length)).toEqual([2, 2, 2])
    // Losers gave up at once (maxAquireAttempts: 1) instead of queuing; a preempted worker's rollback
    // asked for the lock once more and gave up too, because the winner still held it.
    // A worker that had processed fewer videos has the higher priority and took videos from busier ones.
    expect(preemptions).toBeGreaterThan(0)
    expect(giveUps.length).toBeGreaterThanOrEqual(12 - 6)
    expect(giveUps.every((entry) => entry.endsWith('ALREADY_LOCKED'))).toBe(true)
    expect(deleted).toEqual([])
  })
})

/**
 * The Redis protocol vs @sesamecare-oss/redlock on the same redis-server, same run:
 *   (a) uncontended acquire + release per second, one client
 *   (b) 4 clients (each its own connections) contending for one key: acquisitions per second
 *   (c) cross-process preemption: a higher priority's promise() call to its first step, victim alive
 *   (d) a holder killed with -9: time until another process runs under the lock (lease / TTL 1000 ms)
 * The victims and killed holders of (c) and (d) are child processes running this file with `child`.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Redlock } from '@sesamecare-oss/redlock'
import { Redis } from 'ioredis'
import genLock, { redisProtocol, type RedisProtocol } from '../src/index.js'
import { startRedis } from '../test/support/services.js'
import { median, percentile, printTable } from './stats.js'

const KILL_LEASE = 1000
const here = fileURLToPath(import.meta.url)

// --- child: a holder in another process --------------------------------------------------------------

/** Holds `key` (priority 0) forever, resuming after every preemption; says 'holding' at each (re)start. */
async function child(url: string, impl: 'genlock' | 'redlock', key: string): Promise<void> {
  if (impl === 'redlock') {
    const redlock = new Redlock([new Redis(url)], { retryCount: -1, retryDelay: 50, retryJitter: 0 })
    await redlock.acquire([key], KILL_LEASE)
    process.send!('holding')
    return // keeps the lock until killed
  }
  const protocol = redisProtocol({ url, keyPrefix: 'bench', lease: KILL_LEASE })
  const { newLocker } = genLock({}, protocol)
  let attempt = 0
  await newLocker(key, null)
    .promise(function* (_resource, context) {
      for (;;) {
        if (context.attempt !== attempt) {
          attempt = context.attempt
          process.send!('holding')
        }
        yield new Promise((resolve) => setTimeout(resolve, 1))
      }
    })
    .recover((ops) => ops.resume())
}

function startChild(url: string, impl: 'genlock' | 'redlock', key: string): ChildProcess {
  return fork(here, ['child', url, impl, key], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
}

const holding = (child: ChildProcess) => new Promise<void>((resolve) => child.once('message', () => resolve()))

// --- measurements ------------------------------------------------------------------------------------

/** Runs `round` for `ms` and returns iterations per second. */
async function rate(ms: number, round: () => Promise<number>): Promise<number> {
  const start = performance.now()
  let count = 0
  while (performance.now() - start < ms) count += await round()
  return count / ((performance.now() - start) / 1000)
}

async function uncontended(url: string, rounds: number): Promise<[number, number]> {
  const protocol = redisProtocol({ url, keyPrefix: 'bench' })
  const locker = genLock({}, protocol).newLocker('uncontended', null)
  const redlock = new Redlock([new Redis(url)], { retryCount: 0 })
  const batch = 200
  const ours = async () => {
    for (let i = 0; i < batch; i++) await locker.promise(function* () {})
    return batch
  }
  const peer = async () => {
    for (let i = 0; i < batch; i++) await (await redlock.acquire(['redlock-uncontended'], 5000)).release()
    return batch
  }
  await rate(300, ours) // warm-up: connections, script cache, JIT
  await rate(300, peer)
  // Alternating short rounds, best of each: other load on the machine hits both libraries alike.
  let best: [number, number] = [0, 0]
  for (let i = 0; i < rounds; i++) {
    best = [Math.max(best[0], await rate(500, ours)), Math.max(best[1], await rate(500, peer))]
  }
  await protocol.close()
  await redlock.quit()
  return best
}

interface Contention {
  acquisitions: number
  /** Acquisitions by another client than the one before: the lock actually changed hands. */
  handoffs: number
}

/** 4 clients, each with its own connections, take one key as fast as they can for `ms`; per second. */
async function contended(url: string, ms: number): Promise<[Contention, Contention]> {
  const protocols: RedisProtocol[] = Array.from({ length: 4 }, () => redisProtocol({ url, keyPrefix: 'bench' }))
  const lockers = protocols.map((protocol) => genLock({}, protocol).newLocker('contended', null))
  const redlocks = Array.from(
    { length: 4 },
    () => new Redlock([new Redis(url)], { retryCount: -1, retryDelay: 50, retryJitter: 0 }),
  )
  /** `one(i, held)` takes the lock as client i, calls `held()` while holding it, and gives it back. */
  const race = async (one: (i: number, held: () => void) => Promise<unknown>): Promise<Contention> => {
    const stop = performance.now() + ms
    let last = -1
    let acquisitions = 0
    let handoffs = 0
    await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const held = () => {
          acquisitions++
          if (i !== last) handoffs++
          last = i
        }
        while (performance.now() < stop) await one(i, held)
      }),
    )
    return { acquisitions: acquisitions / (ms / 1000), handoffs: handoffs / (ms / 1000) }
  }
  const ours = (i: number, held: () => void) =>
    lockers[i]!.promise(function* () {
      held()
    })
  const peer = async (i: number, held: () => void) => {
    const lock = await redlocks[i]!.acquire(['redlock-contended'], 5000)
    held()
    await lock.release()
  }
  await race(ours) // warm-up
  const result: [Contention, Contention] = [await race(ours), await race(peer)]
  await Promise.all(protocols.map((protocol) => protocol.close()))
  await Promise.all(redlocks.map((redlock) => redlock.quit()))
  return result
}

/** ms from a priority-5 promise() call to its first step while a child process holds the lock. */
async function preemption(url: string, samples: number): Promise<number[]> {
  const protocol = redisProtocol({ url, keyPrefix: 'bench' })
  const thief = genLock({}, protocol).newLocker('preempt', null, { priority: 5 })
  const victim = startChild(url, 'genlock', 'preempt')
  const times: number[] = []
  for (let i = 0; i < samples + 3; i++) {
    await holding(victim)
    const start = performance.now()
    let firstStep = 0
    await thief.promise(function* () {
      firstStep = performance.now()
    })
    if (i >= 3) times.push(firstStep - start) // the first few warm up connections and code
  }
  victim.kill('SIGKILL')
  await protocol.close()
  return times
}

/** ms from kill -9 of a holder to another process's first step under the lock. */
async function killedHolder(url: string, impl: 'genlock' | 'redlock', samples: number): Promise<number[]> {
  const times: number[] = []
  const protocol = redisProtocol({ url, keyPrefix: 'bench', lease: KILL_LEASE })
  const redlock = new Redlock([new Redis(url)], { retryCount: -1, retryDelay: 50, retryJitter: 0 })
  for (let i = 0; i < samples; i++) {
    const key = `killed-${impl}-${i}`
    const doomed = startChild(url, impl, key)
    await holding(doomed)
    const exited = new Promise((resolve) => doomed.once('exit', resolve))
    doomed.kill('SIGKILL')
    await exited
    const start = performance.now()
    if (impl === 'genlock')
      await genLock({}, protocol)
        .newLocker(key, null)
        .promise(function* () {})
    else await (await redlock.acquire([key], 5000)).release()
    times.push(performance.now() - start)
  }
  await protocol.close()
  await redlock.quit()
  return times
}

async function main(): Promise<void> {
  const redis = await startRedis()
  try {
    const [ours, peer] = await uncontended(redis.url, 8)
    const [a, b] = await contended(redis.url, 3000)
    printTable('redis: genlock redisProtocol vs @sesamecare-oss/redlock (per second)', [
      ['(a) uncontended acquire+release /s', ours, peer, ours / peer, '>= 1.2x'],
      ['(b) 4 clients, one key: handoffs /s', a.handoffs, b.handoffs, a.handoffs / b.handoffs, '>= 10x'],
      ['(b) same run: all acquisitions /s', a.acquisitions, b.acquisitions, a.acquisitions / b.acquisitions, '-'],
    ])
    const preempt = await preemption(redis.url, 40)
    console.log(
      `\n(c) cross-process preemption, call to first step: median ${median(preempt).toFixed(2)} ms, ` +
        `p90 ${percentile(preempt, 90).toFixed(2)} ms (${preempt.length} samples; goal: median < 5 ms)`,
    )
    const killedOurs = await killedHolder(redis.url, 'genlock', 3)
    const killedPeer = await killedHolder(redis.url, 'redlock', 3)
    console.log(
      `(d) kill -9 of the holder to the next holder's first step, lease/TTL ${KILL_LEASE} ms: ` +
        `genlock median ${median(killedOurs).toFixed(0)} ms, redlock median ${median(killedPeer).toFixed(0)} ms ` +
        `(goal: about one lease)`,
    )
  } finally {
    await redis.dispose()
  }
}

if (process.argv[2] === 'child') {
  const [url, impl, key] = process.argv.slice(3) as [string, 'genlock' | 'redlock', string]
  void child(url, impl, key)
} else {
  await main()
  process.exit(0)
}

import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import genLock, { LockError, type LockEvent } from '../../src/index.js'
import { redisProtocol, type RedisProtocol } from '../../src/lock/redis/index.js'
import { startRedis } from '../support/services.js'
import { deferred, holdLock, nextLockEvent, uniqueResource } from './helpers.js'

/** Behaviour of the Redis protocol beyond the shared contract, with two clients in this process. */
describe('redis protocol', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>
  let protocols: RedisProtocol[] = []

  beforeAll(async () => {
    redis = await startRedis()
  })

  afterAll(async () => {
    await redis?.dispose()
  })

  afterEach(async () => {
    await Promise.all(protocols.map((protocol) => protocol.close()))
    protocols = []
  })

  function client(lease?: number): RedisProtocol {
    const protocol = redisProtocol({ url: redis.url, keyPrefix: 'protocol', lease })
    protocols.push(protocol)
    return protocol
  }

  const waiting = (lockerGuid: string) => (e: LockEvent) => e.type === 'waiting' && e.lockerGuid === lockerGuid

  it('counts a waiter’s attempts each time the lock goes to someone else, across clients', async () => {
    const a = genLock({}, client())
    const b = genLock({}, client())
    const resource = uniqueResource('attempts')
    const { release, holding } = await holdLock(a, resource, { priority: 1 })
    // Waits with 2 chances: the first try, and the first handoff (to the higher priority waiter) uses the second.
    const limited = b.newLocker(resource, null, { maxAcquireAttempts: 2 })
    const limitedQueued = nextLockEvent(b.protocol, waiting(limited.lockerGuid))
    const limitedRun = limited.promise(function* () {}).catch((error: unknown) => error)
    await limitedQueued
    const urgent = a.newLocker(resource, null, { priority: 1 })
    const urgentQueued = nextLockEvent(a.protocol, waiting(urgent.lockerGuid))
    const urgentRun = urgent.promise(function* () {
      return 'urgent ran'
    })
    await urgentQueued
    release.resolve()
    expect(await urgentRun).toBe('urgent ran')
    const error = (await limitedRun) as LockError
    expect(error).toBeInstanceOf(LockError)
    expect(error.code).toBe('ALREADY_LOCKED')
    expect(error.message).toContain('gave up after 2 attempts')
    await holding
  })

  it('takes a whole composite lock from a lower holder in another client, which gets it back whole', async () => {
    const low = genLock({}, client())
    const high = genLock({}, client())
    const [ra, rb] = [uniqueResource('composite-a'), uniqueResource('composite-b')]
    const pair = low.newDualLocker(low.newLocker(ra, 'A'), low.newLocker(rb, 'B'))
    const holding = deferred()
    const codes: string[] = []
    const tokens: number[] = []
    let runs = 0
    const pairRun = pair
      .promise(function* (_resources, context) {
        runs++
        tokens.push(context.tokens[ra]!)
        holding.resolve()
        if (runs === 1) yield new Promise(() => {})
        return runs
      })
      .recover((ops, error) => {
        codes.push(error.code)
        return ops.restart()
      })
    await holding.promise
    const thiefToken = await high.newLocker(ra, 'A', { priority: 5 }).promise(function* (_a, context) {
      return context.token
    })
    expect(await pairRun).toBe(2)
    expect(codes).toEqual(['PREEMPTED'])
    expect(tokens[0]!).toBeLessThan(thiefToken)
    expect(tokens[1]!).toBeGreaterThan(thiefToken)
  })

  it('turns a lease invalid by itself when the event loop stalls past the lease, before any timer runs', async () => {
    const lease = 300
    const locks = client(lease)
    const held = await locks.acquire({
      resources: [uniqueResource('stalled')],
      lockerGuid: 'stalled',
      priority: 0,
      lockTtl: Infinity,
      acquireTimeout: Infinity,
      maxAcquireAttempts: Infinity,
    })
    expect(held.valid).toBe(true)
    const lost = new Promise<LockError>((resolve) => held.onLost(resolve))
    // The stall itself: no renewal and no timer can run while this loop spins.
    const until = performance.now() + lease
    while (performance.now() < until) {
      // spinning, as a process under SIGSTOP or a blocked event loop would stand still
    }
    expect(held.valid).toBe(false)
    expect((await lost).code).toBe('LOST')
  })
  it('acknowledges a steal only once the victim’s in-flight step has landed', async () => {
    const victimClient = client()
    const thiefClient = redisProtocol({ url: redis.url, keyPrefix: 'protocol', handoffTimeout: 60_000 })
    protocols.push(thiefClient)
    const victimSide = genLock({}, victimClient)
    const thiefSide = genLock({}, thiefClient)
    const resource = uniqueResource('drain')
    // Watch the thief's channel for the victim's acknowledgement, as the thief itself hears it.
    const watcher = new Redis(redis.url)
    const order: string[] = []
    const acked = deferred()
    await watcher.subscribe(`{protocol}:c:${thiefClient.clientId}`)
    watcher.on('message', (_channel: string, message: string) => {
      if (JSON.parse(message)[0] !== 'A') return
      order.push('ack')
      acked.resolve()
    })
    const bulbCall = deferred()
    const holding = deferred()
    const victim = victimSide
      .newLocker(resource, null)
      .promise(function* () {
        holding.resolve()
        yield bulbCall.promise // a command on its way to the bulb when the lock is taken
      })
      .recover((ops) => ops.reject())
      .catch((error: unknown) => (error as LockError).code)
    await holding.promise
    const stolen = nextLockEvent(victimClient, (e) => e.type === 'preempted' && e.resource === resource)
    const thief = thiefSide.newLocker(resource, null, { priority: 5 }).promise(function* () {
      order.push('thief started')
    })
    await stolen
    await new Promise((resolve) => setImmediate(resolve))
    // Redis runs one connection's commands in order and writes a PUBLISH to subscribers before it answers the
    // next command: once a later script of the victim's client and a PING on the watcher have come back, an
    // acknowledgement sent on hearing of the steal would have been seen.
    await victimSide.newLocker(uniqueResource('probe'), null).promise(function* () {})
    await watcher.ping()
    expect(order).toEqual([])
    order.push('command landed')
    bulbCall.resolve()
    await Promise.all([thief, acked.promise])
    watcher.disconnect()
    expect(order[0]).toBe('command landed')
    expect(order).toContain('thief started')
    expect(await victim).toBe('PREEMPTED')
  })
})

/**
 * One policy for listeners the lock calls (lock events, lease-loss listeners): an error one throws or a
 * promise it rejects is logged with its context, the other listeners still run, locking goes on, and nothing
 * is rethrown (a rethrow in a microtask would end the daemon).
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import genLock, { LockError, memoryProtocol, type Lease, type LockLogger } from '../../src/index.js'
import { deferred } from './helpers.js'

interface Logged {
  details: Record<string, unknown>
  message: string
}

/** A logger that keeps what it is given; `until(n)` resolves once n entries are in. */
function recordingLogger(): LockLogger & { logged: Logged[]; until(count: number): Promise<Logged[]> } {
  const logged: Logged[] = []
  const waiting: { count: number; resolve(entries: Logged[]): void }[] = []
  const error = (details: object, message: string) => {
    logged.push({ details: details as Record<string, unknown>, message })
    for (const waiter of waiting.filter((w) => logged.length >= w.count)) {
      waiting.splice(waiting.indexOf(waiter), 1)
      waiter.resolve(logged)
    }
  }
  return {
    logged,
    error,
    warn: error,
    until: (count) =>
      logged.length >= count ? Promise.resolve(logged) : new Promise((resolve) => waiting.push({ count, resolve })),
  }
}

const request = (resource: string, lockerGuid: string) => ({
  resources: [resource],
  lockerGuid,
  priority: 0,
  lockTtl: Infinity,
  acquireTimeout: Infinity,
  maxAcquireAttempts: Infinity,
})

describe('listener errors', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('logs a throwing lock event listener with the event, and still calls the others and locks on', async () => {
    const logger = recordingLogger()
    const protocol = memoryProtocol({ logger })
    const seen: string[] = []
    protocol.on((event) => {
      if (event.type === 'acquired') throw new Error('listener bug')
    })
    protocol.on((event) => seen.push(event.type))
    const { newLocker } = genLock({}, protocol)
    await expect(
      newLocker('lamp', null).promise(function* () {
        yield Promise.resolve()
        return 'ran'
      }),
    ).resolves.toBe('ran')
    expect(seen).toEqual(['acquired', 'released'])
    expect(logger.logged).toHaveLength(1)
    const [entry] = logger.logged
    expect(entry!.message).toMatch(/lock event listener failed/)
    expect(entry!.details.err).toEqual(new Error('listener bug'))
    expect(entry!.details.event).toMatchObject({ type: 'acquired', resource: 'lamp' })
    // A rethrow would surface as an uncaught exception once the microtask queue has run.
    await new Promise((resolve) => setImmediate(resolve))
    expect(protocol.idle).toBe(true)
  })

  it('logs a lease-loss listener that throws or rejects with the lease, and still tells the others', async () => {
    const logger = recordingLogger()
    const protocol = memoryProtocol({ logger })
    const lease = protocol.acquire(request('lamp', 'holder')) as Lease
    const told = deferred<LockError>()
    lease.onLost(() => {
      throw new Error('thrown by a handler')
    })
    lease.onLost(() => Promise.reject(new Error('rejected by a handler')))
    lease.onLost((error) => told.resolve(error))
    protocol.revoke('lamp')
    expect((await told.promise).code).toBe('LOST')
    await logger.until(2)
    expect(logger.logged.map((e) => (e.details.err as Error).message).sort()).toEqual([
      'rejected by a handler',
      'thrown by a handler',
    ])
    for (const entry of logger.logged) {
      expect(entry.message).toMatch(/lease-loss listener failed/)
      expect(entry.details).toMatchObject({ resources: ['lamp'], lockerGuid: 'holder', code: 'LOST' })
    }
    // A listener added after the loss is called too, under the same policy.
    lease.onLost(() => {
      throw new Error('late')
    })
    const entries = await logger.until(3)
    expect((entries[2]!.details.err as Error).message).toBe('late')
  })

  it('survives a logger that throws as well', async () => {
    const protocol = memoryProtocol({
      logger: {
        warn() {
          throw new Error('logger bug')
        },
      },
    })
    protocol.on(() => {
      throw new Error('listener bug')
    })
    const lease = protocol.acquire(request('lamp', 'a')) as Lease
    lease.release()
    await new Promise((resolve) => setImmediate(resolve))
    expect(protocol.idle).toBe(true)
  })

  it('logs to stderr when no logger is given', async () => {
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const protocol = memoryProtocol()
    protocol.on(() => {
      throw new Error('listener bug')
    })
    ;(protocol.acquire(request('lamp', 'a')) as Lease).release()
    expect(stderr).toHaveBeenCalledWith(
      expect.stringMatching(/lock event listener failed/),
      expect.objectContaining({ err: new Error('listener bug') }),
    )
    await new Promise((resolve) => setImmediate(resolve))
  })
})

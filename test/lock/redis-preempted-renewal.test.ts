import { describe, expect, it } from 'vitest'
import genLock from '../../src/index.js'
import { deferred, uniqueResource } from './helpers.js'
import { internalsOf, redisPerTest } from './redis-bed.js'

/**
 * A steal tells its victim `P` on the victim's channel (the subscriber connection); the victim's renewal, on its
 * command connection, can come back first and find the lease gone. The victim must still report PREEMPTED (so the
 * run resumes), not LOST. Here the victim's subscriber socket stops reading, so the renewal's reply surely comes
 * first, as it does now and then on a loaded machine (redis-contract's preemption test failed that way).
 */
describe('redis protocol: a renewal that comes back before the steal’s message', () => {
  const bed = redisPerTest()

  it('reports PREEMPTED, not LOST, once the steal’s message is read', async () => {
    const options = { keyPrefix: 'renewal-first', lease: 600, handoffTimeout: 10_000 }
    const victim = bed.protocol(options)
    const thief = bed.protocol(options)
    const resource = uniqueResource('renewal-first')

    const holding = deferred()
    const step = deferred()
    const log: string[] = []
    void step.promise.then(() => log.push('victim step landed'))
    const codes: string[] = []
    let runs = 0
    const victimDone = genLock({}, victim)
      .newLocker(resource, null, { priority: 1 })
      .promise(function* () {
        runs++
        holding.resolve()
        if (runs === 1) yield step.promise
        return 'victim'
      })
      .recover((ops, error) => {
        codes.push(error.code)
        return ops.restart()
      })
    await holding.promise
    const { command, subscriber } = internalsOf(victim).connections

    // From here the victim reads nothing on its channel, and we learn when one of its renewals has come back.
    subscriber.stream.pause()
    let renewed: (() => void) | undefined
    const renew = command['genlockRenew'] as (...args: unknown[]) => Promise<unknown>
    command['genlockRenew'] = (...args: unknown[]) => {
      const reply = renew.apply(command, args)
      const notify = renewed
      if (notify) void reply.then(() => setImmediate(notify))
      return reply
    }

    const thiefDone = genLock({}, thief)
      .newLocker(resource, null, { priority: 5 })
      .promise(function* () {
        log.push('thief starts')
        yield Promise.resolve()
        return 'thief'
      })
    // The steal is on the server once the thief waits for the victim's acknowledgement.
    const stolen = internalsOf(thief).pending
    while (![...stolen.values()].some((p) => p.state === 'handoff')) await new Promise((r) => setImmediate(r))
    // A renewal sent after the steal finds the lease gone on the server.
    await new Promise<void>((resolve) => (renewed = resolve))
    expect(codes).toEqual([])

    subscriber.stream.resume()
    // The acknowledgement waits for the victim's step in flight, so the thief's first step never races it.
    await new Promise<void>((resolve) => victim.on((e) => (e.type === 'preempted' || e.type === 'lost') && resolve()))
    step.resolve()
    expect(await thiefDone).toBe('thief')
    expect(log).toEqual(['victim step landed', 'thief starts'])
    expect(await victimDone).toBe('victim')
    expect(codes).toEqual(['PREEMPTED'])
  })
})

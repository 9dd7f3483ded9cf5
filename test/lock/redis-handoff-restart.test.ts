import { describe, expect, it } from 'vitest'
import genLock from '../../src/index.js'
import { holdLock, nextLockEvent, uniqueResource } from './helpers.js'
import { redisPerTest } from './redis-bed.js'

/**
 * A steal's grant waits for the victim's acknowledgement (the hand-off). If Redis restarts meanwhile, the restarted
 * server has forgotten that grant, and its counter starts again: taking the old grant once the hand-off ends would
 * run a step with the old server's token beside a holder the new server picks with a newer one (the fault
 * workload's seed 1405128327: the light saw a token go backwards).
 */
describe('redis protocol: a hand-off that outlives the server that granted it', () => {
  const bed = redisPerTest()

  it('does not take a steal granted by the old server when the hand-off ends after a restart', async () => {
    // One client is both victim and thief: its acknowledgement then needs no channel, so the hand-off ends
    // exactly when the victim's step lands, whatever the state of the subscriber connection.
    const protocol = bed.protocol({ keyPrefix: 'handoff', handoffTimeout: 60_000 })
    const lock = genLock({}, protocol)
    const { newLocker } = lock
    const resource = uniqueResource('handoff-restart')

    // The victim holds the light with a command on its way that has not landed: its acknowledgement waits for it.
    const { release: victimStep, holding, token: oldToken } = await holdLock(lock, resource)
    const victim = holding.recover((ops) => ops.reject()).catch(() => undefined)

    // The thief steals; its grant (the old server's token oldToken + 1) waits for the acknowledgement.
    const stolen = nextLockEvent(protocol, (e) => e.type === 'preempted' && e.resource === resource)
    const thiefTokens: number[] = []
    const thiefLosses: string[] = []
    const thief = newLocker(resource, null, { priority: 5 })
      .promise(function* (_bulb, context) {
        thiefTokens.push(context.token)
      })
      .recover((ops, error) => {
        thiefLosses.push(error.code)
        return ops.restart()
      })
    await stolen
    // Commands run in order on the connection: once a later acquisition is answered, so is the steal.
    await newLocker(uniqueResource('probe'), null).promise(function* () {})

    const lapsed = new Promise<void>((resolve) => {
      const off = protocol.backend.onChange((reachable) => {
        if (reachable) return
        off()
        resolve()
      })
    })
    await bed.redis.restart()
    await lapsed
    // An acquisition answered by the new server: the client's heartbeat is alive again, on the new server.
    await newLocker(uniqueResource('probe'), null).promise(function* () {})

    victimStep.resolve() // the victim's step lands: it acknowledges, and the hand-off ends
    await Promise.all([thief, victim])

    // Every step of the thief ran under a lease of the new server, whose tokens are newer than the old one's.
    expect(thiefTokens.length).toBeGreaterThan(0)
    for (const token of thiefTokens) expect(token).toBeGreaterThan(oldToken + 1)
    expect(thiefLosses).toEqual(['LOST'])
  })
})

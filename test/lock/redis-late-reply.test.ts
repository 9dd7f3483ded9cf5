import { describe, expect, it } from 'vitest'
import genLock from '../../src/index.js'
import { uniqueResource } from './helpers.js'
import { internalsOf, redisPerTest } from './redis-bed.js'

/**
 * An acquire whose reply is read after a connection dropped is asked again: the server that answered may have
 * restarted since. Messages about the first grant may have come meanwhile (here a steal's `P`). Asked again under
 * the same id, that `P` was applied to the new grant, which was lost without being given back: the server kept it
 * for a client that goes on renewing, and every later acquisition of the bulb waited it out.
 */
describe('redis protocol: an acquire reply read after a drop', () => {
  const bed = redisPerTest()

  it('asks again under a new id, so what was said about the first grant touches nothing', async () => {
    const keyPrefix = 'late-reply'
    const { inspector } = bed
    const late = bed.protocol({ keyPrefix })
    const thief = bed.protocol({ keyPrefix })
    const resource = uniqueResource('late-reply')
    await genLock({}, late)
      .newLocker(uniqueResource('connect'), null)
      .promise(function* () {})
    const { clientId, connections } = internalsOf(late)
    const channel = `{${keyPrefix}}:c:${clientId}`

    // The acquire runs on the server (and is granted), but its reply waits unread.
    connections.command.stream.pause()
    const losses: string[] = []
    const lateDone = genLock({}, late)
      .newLocker(resource, null, { priority: 1, acquireTimeout: 3000 })
      .promise(function* () {
        return 'ran'
      })
      .recover((ops, error) => {
        losses.push(error.code)
        return ops.restart()
      })
    while (!(await inspector.exists(`{${keyPrefix}}:h:${resource}`))) await new Promise((r) => setImmediate(r))

    // The subscriber connection drops (the heartbeat's epoch with it) and comes back, subscribed again.
    const back = new Promise((resolve) => connections.subscriber.once('ready', resolve))
    connections.subscriber.stream.destroy()
    await back // Redis saw the old connection close before this one open
    const subscribers = async () => Number(((await inspector.pubsub('NUMSUB', channel)) as [string, number])[1])
    while ((await subscribers()) === 0) await new Promise((r) => setImmediate(r))

    // A thief steals the first grant and is done: the client is told P about it, before the reply is read.
    await genLock({}, thief)
      .newLocker(resource, null, { priority: 5 })
      .promise(function* () {})

    connections.command.stream.resume()
    expect(await lateDone).toBe('ran')
    expect(losses).toEqual([])
    await late.close()
    await thief.close()
    expect(await inspector.exists(`{${keyPrefix}}:h:${resource}`)).toBe(0)
  })
})

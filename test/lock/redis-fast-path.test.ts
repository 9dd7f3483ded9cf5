import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SCRIPTS } from '../../src/lock/redis/scripts.js'
import { startRedis } from '../support/services.js'
import { uniqueResource } from './helpers.js'

type Reply = [string, string?, number?]
type Scripted = Redis & {
  genlockAcquire(key: string, ...args: (string | number)[]): Promise<Reply>
  genlockRelease(key: string, ...args: string[]): Promise<number>
}

/**
 * The uncontended acquire script on its own, called as the protocol calls it: a release riding along with the
 * next acquire of the same resource is the hot path of a transaction loop, and its shortcut must never jump a
 * waiter or reuse a fencing token.
 */
describe('redis acquire fast path', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>
  let server: Scripted
  const K = '{fast}:'
  const key = `${K}clients`

  beforeAll(async () => {
    redis = await startRedis()
    server = new Redis(redis.url) as Scripted
    for (const name of ['genlockAcquire', 'genlockRelease'] as const) {
      server.defineCommand(name, { lua: SCRIPTS[name], numberOfKeys: 1 })
    }
  })

  afterAll(async () => {
    server?.disconnect()
    await redis?.dispose()
  })

  let ids = 0
  /** ARGV as the protocol sends it; `releases` ride along, given back before the acquire. */
  function acquire(
    client: string,
    resources: string[],
    options: { priority?: number; mayWait?: boolean; releases?: string[]; id?: string } = {},
  ): Promise<{ id: string; reply: Reply }> {
    const id = options.id ?? `${client}.${(ids++).toString(36)}`
    const priority = options.priority ?? 0
    return server
      .genlockAcquire(
        key,
        K,
        id,
        client,
        5000,
        `guid-${client}`,
        String(priority),
        String(-priority),
        JSON.stringify(resources),
        options.mayWait === false ? '0' : '1',
        '',
        ...(options.releases ?? []),
      )
      .then((reply) => ({ id, reply }))
  }

  const token = (reply: Reply) => Number((JSON.parse(reply[1]!) as string[])[0])
  const existsCalls = async () =>
    Number((await server.info('commandstats')).match(/cmdstat_exists:calls=(\d+)/)?.[1] ?? 0)

  it('hands a hold given back with the next acquire to that acquire without looking it up again', async () => {
    const r = uniqueResource('loop')
    const first = await acquire('c1', [r])
    expect(first.reply[0]).toBe('G')
    await server.config('RESETSTAT')
    const second = await acquire('c1', [r], { releases: [first.id] })
    expect(second.reply[0]).toBe('G')
    expect(token(second.reply)).toBeGreaterThan(token(first.reply))
    // One lookup in all: the release's check that nobody waits. The freed hold is not looked up again.
    expect(await existsCalls()).toBe(1)
    expect(await server.hgetall(`${K}h:${r}`)).toEqual({ _o: 'guid-c1', [second.id]: '0' })
    expect(await server.exists(`${K}l:${first.id}`)).toBe(0)
    expect(await server.smembers(`${K}cl:c1`)).toEqual([second.id])
  })

  it('still looks at the resources the releases did not free', async () => {
    const [mine, theirs] = [uniqueResource('mine'), uniqueResource('theirs')]
    const held = await acquire('c1', [mine])
    const other = await acquire('c2', [theirs])
    expect(other.reply[0]).toBe('G')
    const both = await acquire('c1', [mine, theirs], { releases: [held.id], mayWait: false })
    expect(both.reply).toEqual(['F'])
    expect(await server.exists(`${K}h:${mine}`)).toBe(0)
    expect(await server.hget(`${K}h:${theirs}`, other.id)).toBe('0')
  })

  it.each([
    ['a higher', 9, 5],
    ['the same', 0, 0],
  ])('leaves a freed hold to a waiter of %s priority, queued first', async (_label, holding, priority) => {
    const r = uniqueResource('queued')
    const held = await acquire('c1', [r], { priority: holding })
    const waiter = await acquire('c2', [r], { priority })
    expect(waiter.reply[0]).toBe('W')
    const again = await acquire('c1', [r], { releases: [held.id] })
    expect(again.reply[0]).toBe('W')
    expect(await server.hget(`${K}h:${r}`, waiter.id)).toBe(String(priority))
    const [first, second] = await server.zrange(`${K}q:${r}`, '0', '-1')
    expect(first).toMatch(new RegExp(`:${again.id.replace('.', '\\.')}$`))
    expect(second).toBeUndefined()
  })

  it('grants a freed hold to a queued lower-priority waiter first, then takes it from it', async () => {
    const r = uniqueResource('preempt')
    const held = await acquire('c1', [r])
    const waiter = await acquire('c2', [r], { priority: -1 })
    expect(waiter.reply[0]).toBe('W')
    const again = await acquire('c1', [r], { releases: [held.id] })
    // The waiter was granted (one token), then preempted by the higher request (the next token).
    expect(again.reply[0]).toBe('G')
    expect(again.reply[2]).toBe(1)
    expect(token(again.reply)).toBe(token(held.reply) + 2)
    expect(await server.exists(`${K}l:${waiter.id}`, `${K}w:${waiter.id}`)).toBe(0)
    // Sent again (a reconnect), it reports the same grant, victims included, and takes no new token.
    expect((await acquire('c1', [r], { id: again.id })).reply).toEqual(again.reply)
  })

  it('answers an acquire sent again after a fast grant with that grant', async () => {
    const r = uniqueResource('resent')
    const first = await acquire('c1', [r])
    expect(first.reply[2]).toBe(0)
    expect((await acquire('c1', [r], { id: first.id })).reply).toEqual(first.reply)
    expect(await server.get(`${K}t:${r}`)).toBe(String(token(first.reply)))
  })

  it('keeps fencing tokens increasing across fast and queued grants', async () => {
    const r = uniqueResource('tokens')
    const tokens: number[] = []
    const a = await acquire('c1', [r])
    tokens.push(token(a.reply))
    const b = await acquire('c1', [r], { releases: [a.id] })
    tokens.push(token(b.reply))
    const queued = await acquire('c2', [r])
    expect(queued.reply[0]).toBe('W')
    await server.genlockRelease(key, K, b.id)
    const granted = (await server.hmget(`${K}l:${queued.id}`, 'k'))[0]!
    tokens.push(Number((JSON.parse(granted) as string[])[0]))
    const c = await acquire('c2', [r], { releases: [queued.id] })
    tokens.push(token(c.reply))
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!)
  })
})

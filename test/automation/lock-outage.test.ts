/**
 * Issue 13.11: an automation triggered while Redis is out of reach is not lost. Before, it failed with
 * `not granted within <acquire_timeout> ms` and never ran; now it asks again once Redis is back, for at most
 * `lock.outage_wait`.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { redisProtocol, type RedisProtocol } from '../../src/lock/redis/index.js'
import { startRedis } from '../support/services.js'
import { harnessOver, waitForStatus, type Harness } from './support.js'

let redis: Awaited<ReturnType<typeof startRedis>>
let protocol: RedisProtocol | undefined
let h: Omit<Harness, 'protocol'> | undefined
let prefixes = 0

beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.dispose()
})
afterEach(async () => {
  await h?.close()
  await protocol?.close()
  h = undefined
  protocol = undefined
})

const flash = (lock: string) => `name: flash
priority: 200
devices: [bath_bulb]
lock: ${lock}
trigger:
  - mqtt: home/flash
stop:
  - mqtt: home/flash
    payload: "OFF"
steps:
  - set: { color: "{{ trigger.payload }}" }
`

/** A harness over Redis whose connection is up (one run done), then Redis stopped and the protocol told so. */
async function outage(lock: string): Promise<Omit<Harness, 'protocol'>> {
  protocol = redisProtocol({ url: redis.url, keyPrefix: `outage-${++prefixes}` })
  h = await harnessOver(protocol, { 'flash.yaml': flash(lock) })
  const first = h.bulb().nextCommand((entry) => entry.command.color === 'green')
  h.bus.send('home/flash', 'green')
  await first
  await waitForStatus(h.engine, 'flash', 'idle')
  const backend = protocol.backend
  const down = new Promise<void>((resolve) => backend.onChange((reachable) => reachable || resolve()))
  await redis.stop()
  await down
  return h
}

it('a trigger during a Redis outage runs once Redis is back', async () => {
  const { bus, bulb, logged, lines } = await outage('{ acquire_timeout: 2s, outage_wait: 1m }')
  const waiting = logged('the lock backend is out of reach')
  bus.send('home/flash', 'red')
  await waiting
  const red = bulb().nextCommand((entry) => entry.command.color === 'red')
  await redis.start()
  expect((await red).origin?.holder).toBe('flash')
  expect(lines.filter((line) => String(line.msg).startsWith('failed'))).toEqual([])
})

it('gives up after lock.outage_wait, saying so', async () => {
  const { bus, logged } = await outage('{ acquire_timeout: 200ms, outage_wait: 600ms }')
  const failed = logged('failed: ')
  bus.send('home/flash', 'red')
  expect(String((await failed).msg)).toContain('out of reach for longer than lock.outage_wait (600 ms)')
  await redis.start()
})

it('a stop trigger ends a run that waits for Redis', async () => {
  const { bus, bulb, engine, logged } = await outage('{ acquire_timeout: 200ms }')
  const waiting = logged('the lock backend is out of reach')
  bus.send('home/flash', 'red')
  await waiting
  bus.send('home/flash', 'OFF')
  await waitForStatus(engine, 'flash', 'idle')
  const commands = bulb().commandLog.length
  await redis.start()
  const next = bulb().nextCommand((entry) => entry.command.color === 'blue')
  bus.send('home/flash', 'blue')
  await next
  expect(
    bulb()
      .commandLog.slice(commands)
      .map((entry) => entry.command.color),
  ).toEqual(['blue'])
})

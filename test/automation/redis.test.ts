import { readFileSync } from 'node:fs'
import { isDeepStrictEqual } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { redisProtocol, type RedisProtocol } from '../../src/lock/redis/index.js'
import { startRedis } from '../support/services.js'
import { harnessOver, waitForStatus, type Harness } from './support.js'

function shipped(file: string): string {
  return readFileSync(new URL(`../../automations/${file}`, import.meta.url), 'utf8')
    .replace(/wait: 1s/g, 'wait: 20ms')
    .replace(/wait: 500ms/g, 'wait: 10ms')
}

/** The shipped party's loop, one command per step. */
const PARTY_CYCLE = [{ color: 'red', brightness: 80 }, { color: 'blue' }, { color: 'yellow' }]

function cycleIndex(command: object): number {
  const index = PARTY_CYCLE.findIndex((step) => isDeepStrictEqual(step, command))
  expect(index, `a party command: ${JSON.stringify(command)}`).toBeGreaterThanOrEqual(0)
  return index
}

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

async function partyAndAlarm(): Promise<Omit<Harness, 'protocol'>> {
  protocol = redisProtocol({ url: redis.url, keyPrefix: `automation-${++prefixes}` })
  h = await harnessOver(protocol, { 'party.yaml': shipped('party.yaml'), 'alarm.yaml': shipped('alarm.yaml') })
  return h
}

describe('party and alarm with locks on Redis', () => {
  it('the alarm preempts, the party stays off the bulb, then resumes in its look at the next step', async () => {
    const { bus, bulb, engine } = await partyAndAlarm()
    const blue = bulb().nextCommand((entry) => entry.command.color === 'blue')
    bus.send('home/party', 'ON')
    await blue
    const firstAlarm = bulb().nextCommand((entry) => entry.origin?.holder === 'alarm')
    bus.send('home/alarm', 'ON')
    const first = await firstAlarm
    await bulb().waitForCommands(bulb().commandLog.indexOf(first) + 4)
    const resumed = bulb().nextCommand((entry) => entry.origin?.holder === 'party')
    const afterLook = bulb().nextCommand((entry) => entry.origin?.holder === 'party' && entry.command.on === undefined)
    bus.send('home/alarm', 'OFF')
    const next = await resumed
    const log = bulb().commandLog
    expect(log.slice(log.indexOf(first), log.indexOf(next)).every((entry) => entry.origin?.holder === 'alarm')).toBe(
      true,
    )
    // The party resumes in its own look (the state its last step left: brightness 80, its last colour) at the step
    // after the last one it finished before the alarm took the bulb (on a loaded machine that need not be the blue
    // seen above: the alarm's acquire can take longer than the party's wait).
    const lastPartyStep = log
      .slice(0, log.indexOf(first))
      .filter((entry) => entry.origin?.holder === 'party')
      .at(-1)!
    expect(next.command).toEqual({ on: true, brightness: 80, color: lastPartyStep.state.color })
    const after = await afterLook
    expect(after.command).toEqual(PARTY_CYCLE[(cycleIndex(lastPartyStep.command) + 1) % PARTY_CYCLE.length])
    expect(next.origin!.token!).toBeGreaterThan(first.origin!.token!)
    expect(log.indexOf(after)).toBe(log.indexOf(next) + 1)
    bus.send('home/party', 'OFF')
    await waitForStatus(engine, 'party', 'idle')
  })

  it('the alarm alone restores the bulb when it stops', async () => {
    const { bus, bulb, logged } = await partyAndAlarm()
    bus.send('home/alarm', 'ON')
    await bulb().waitForCommands(2)
    const restored = logged('restored bath_bulb')
    bus.send('home/alarm', 'OFF')
    await restored
    expect(bulb().commandLog.at(-1)).toMatchObject({
      origin: { holder: 'alarm' },
      command: { on: true, brightness: 40, colorTemp: 2700 },
    })
  })
})

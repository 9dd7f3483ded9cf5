/**
 * Issue 13.11, through the built package where it was seen: an alarm triggered while Redis is down runs once
 * Redis is back. Before, it failed with `not granted within 2000 ms` and never ran.
 */
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { simBulb, writeSetup } from '../cli/setup-files.js'
import { Observer } from '../mqtt/observer.js'
import { builtCli, startBuiltDaemon } from '../support/built-genlock.js'
import { startMosquitto, startRedis } from '../support/services.js'

beforeAll(() => builtCli(), 180_000)

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const ALARM = `name: alarm
priority: 200
devices: [bath_bulb]
lock: { acquire_timeout: 2s }
trigger:
  - mqtt: home/alarm
steps:
  - set: { color: "{{ trigger.payload }}", brightness: 50 }
`

it('runs an alarm triggered during a Redis outage once Redis is back', async () => {
  const [broker, redis] = await Promise.all([startMosquitto(), startRedis()])
  const { dir, configFile } = writeSetup({
    config: `mqtt: { url: "${broker.url}" }\nlocks: { backend: redis, url: "${redis.url}" }\nlog: { level: info, pretty: false }\n`,
    devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
    automations: { 'alarm.yaml': ALARM },
  })
  dirs.push(dir)
  const daemon = await startBuiltDaemon(configFile)
  let client: Observer | undefined
  try {
    await daemon.ready()
    client = await Observer.connect(broker.url, ['genlock/device/bath_bulb'])
    const colour = (r: number, g: number, b: number) => (payload: string) =>
      payload.includes(`"color":{"r":${r},"g":${g},"b":${b}}`) && payload.includes('"holder":"alarm"')
    // A first alarm, so the Redis client is connected before the outage.
    await client.client.publishAsync('home/alarm', 'green', { qos: 1 })
    await client.waitForPayload('genlock/device/bath_bulb', colour(0, 128, 0))
    await daemon.waitForLog((entry) => entry.msg === 'finished')

    let mark = daemon.mark
    await redis.stop()
    await daemon.waitForLog((entry) => String(entry.msg).includes('lost the Redis connection'), mark)
    mark = daemon.mark
    await client.client.publishAsync('home/alarm', 'red', { qos: 1 })
    await daemon.waitForLog((entry) => String(entry.msg).startsWith('the lock backend is out of reach'), mark)
    const from = client.mark
    await redis.start()
    await client.waitForPayload('genlock/device/bath_bulb', colour(255, 0, 0), from)
    expect(daemon.logs.slice(mark).filter((entry) => String(entry.msg).startsWith('failed'))).toEqual([])
  } finally {
    await client?.close()
    expect((await daemon.stop()).code).toBe(0)
    await Promise.all([broker.dispose(), redis.dispose()])
  }
}, 90_000)

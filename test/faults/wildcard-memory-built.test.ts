/**
 * Issue 13.3, through the built package where it was seen: a wildcard trigger's non-matching messages on many
 * distinct topics are not kept. Before the fix the message hub kept the last payload of up to 10,000 topics, so
 * 1,500 topics of 60 KiB stayed in memory (about 90 MB) for good. Measured as the growth over two floods of fresh
 * topics after a first one: what the first cost in garbage the others reuse; only what is kept adds up.
 */
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { simBulb, writeSetup } from '../cli/setup-files.js'
import { Observer } from '../mqtt/observer.js'
import { builtCli, residentBytes, startBuiltDaemon } from '../support/built-genlock.js'
import { startMosquitto } from '../support/services.js'

beforeAll(() => builtCli(), 180_000)

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const TOPICS = 1_500
const CHUNK = 100
const PAYLOAD = 'x'.repeat(60 * 1024)

it('keeps no payloads of a wildcard trigger’s topics: resident memory grows far less than what was sent', async () => {
  const broker = await startMosquitto()
  const { dir, configFile } = writeSetup({
    config: `mqtt: { url: "${broker.url}" }\nlog: { level: info, pretty: false }\n`,
    devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
    automations: {
      'buttons.yaml': `name: buttons
devices: [bath_bulb]
mode: queued # no press is ignored because the run before it has not finished
trigger:
  - mqtt: zigbee2mqtt/+
    payload: press
steps:
  - set: { on: true }
`,
    },
  })
  dirs.push(dir)
  const daemon = await startBuiltDaemon(configFile)
  let sender: Observer | undefined
  try {
    await daemon.ready()
    const client = (sender = await Observer.connect(broker.url, [])).client
    // In chunks, each ending with a press the daemon must have acted on before the next chunk: a broker holds only
    // so many messages for a subscriber that lags (mosquitto: max_queued_messages 1000), and on a loaded machine
    // one unbroken flood filled that queue and the press behind it was dropped.
    const flood = async (round: number) => {
      for (let chunk = 0; chunk < TOPICS / CHUNK; chunk++) {
        for (let i = 0; i < CHUNK; i++) await client.publishAsync(`zigbee2mqtt/r${round}c${chunk}device${i}`, PAYLOAD)
        // Messages on one connection arrive in order: once this one has triggered, every payload before it was seen.
        const press = `zigbee2mqtt/button${round}c${chunk}`
        await client.publishAsync(press, 'press', { qos: 1 })
        await daemon.waitForLog((entry) => entry.msg === `triggered by mqtt ${press}`)
      }
    }
    await flood(1)
    const before = residentBytes(daemon.child.pid!)
    await flood(2)
    await flood(3)

    const grown = residentBytes(daemon.child.pid!) - before
    // Two floods after the baseline: kept, they would add up to twice this (about 185 MB before the fix).
    const oneFlood = TOPICS * PAYLOAD.length
    expect(grown).toBeLessThan(oneFlood)
  } finally {
    await sender?.close()
    expect((await daemon.stop()).code).toBe(0)
    await broker.dispose()
  }
}, 240_000)

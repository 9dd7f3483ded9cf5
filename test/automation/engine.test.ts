import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { parseAutomationFile } from '../../src/automation/parse.js'
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../../src/bus/index.js'
import type { Bulb } from '../../src/devices/bulb.js'
import { SimBulb } from '../../src/devices/sim/sim-bulb.js'
import { harness, locksIdle, type Harness } from './support.js'

const party = readFileSync(new URL('../../automations/party.yaml', import.meta.url), 'utf8').replace(
  /wait: 1s/g,
  'wait: 20ms',
)
const alarm = readFileSync(new URL('../../automations/alarm.yaml', import.meta.url), 'utf8').replace(
  /wait: 500ms/g,
  'wait: 10ms',
)
const known = new Set(['bath_bulb'])

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

describe('AutomationEngine', () => {
  it('hot reload keeps an unchanged running automation running and restarts a changed one idle', async () => {
    h = await harness({ 'party.yaml': party, 'alarm.yaml': alarm })
    h.bus.send('home/party', 'ON')
    await h.bulb().waitForCommands(2)
    // The same files read again: new objects, same content.
    h.engine.load([parseAutomationFile('party.yaml', known, party), parseAutomationFile('alarm.yaml', known, alarm)])
    const more = h.bulb().commandLog.length + 3
    await h.bulb().waitForCommands(more)
    expect(h.lines.some((line) => line.msg === 'stopped')).toBe(false)
    expect(h.engine.holderOf('bath_bulb')).toBe('party')

    const faster = party.replace('priority: 0', 'priority: 1')
    const stopping = h.logged('stopping: its file changed')
    h.engine.load([parseAutomationFile('party.yaml', known, faster), parseAutomationFile('alarm.yaml', known, alarm)])
    await stopping
    await h.status('party', 'idle')
    await locksIdle(h.protocol)
    expect(h.engine.holderOf('bath_bulb')).toBeUndefined()

    h.engine.load([parseAutomationFile('party.yaml', known, faster)])
    expect(h.engine.status().map((s) => s.name)).toEqual(['party'])
  })

  it('a new devices map rebuilds the automations whose bulb changed', async () => {
    h = await harness({ 'party.yaml': party })
    h.bus.send('home/party', 'ON')
    await h.bulb().waitForCommands(1)
    const replacement = new SimBulb({ id: 'bath_bulb', initialState: { on: false, brightness: 100, reachable: true } })
    await replacement.start()
    const devices = new Map<string, Bulb>([['bath_bulb', replacement]])
    h.engine.load([parseAutomationFile('party.yaml', known, party)], devices)
    await h.status('party', 'idle')
    const first = replacement.nextCommand()
    h.bus.send('home/party', 'ON')
    expect((await first).command).toEqual({ color: 'red', brightness: 80 })
    await replacement.stop()
  })

  it('drops oversized payloads with a log line, and triggers on a condition over the payload', async () => {
    h = await harness({
      'hot.yaml': `
name: hot
devices: [bath_bulb]
trigger: { mqtt: "sensors/+/temp", condition: "trigger.json.value > 30 && trigger.topic != 'sensors/oven/temp'" }
steps:
  - set: { brightness: "{{ trigger.json.value }}" }
`,
    })
    h.bus.send('sensors/hall/temp', JSON.stringify({ value: 99, pad: 'x'.repeat(DEFAULT_MAX_PAYLOAD_BYTES) }))
    h.bus.send('sensors/hall/temp', '{"value":25}')
    h.bus.send('sensors/oven/temp', '{"value":200}')
    h.bus.send('sensors/hall/temp', Buffer.from([0xff, 0xfe, 0x00, 0x01]))
    const command = h.bulb().nextCommand()
    h.bus.send('sensors/bath/temp', '{"value":35}')
    expect((await command).command).toEqual({ brightness: 35 })
    await h.status('hot', 'idle')
    expect(h.bulb().commandLog).toHaveLength(1)
    expect(h.lines.find((line) => String(line.msg).startsWith('dropped a'))).toMatchObject({
      level: 40,
      topic: 'sensors/hall/temp',
      msg: expect.stringMatching(/^dropped a \d+-byte payload \(over 65536\)$/),
    })
  })

  it('takes its payload limit from mqtt.max_payload_bytes, above the 64 KiB default too', async () => {
    h = await harness(
      {
        'big.yaml': `
name: big
devices: [bath_bulb]
trigger: { mqtt: "sensors/big", condition: "trigger.json.value > 0" }
steps:
  - set: { brightness: "{{ trigger.json.value }}" }
`,
      },
      { maxPayloadBytes: 256 * 1024 },
    )
    const command = h.bulb().nextCommand()
    h.bus.send('sensors/big', JSON.stringify({ value: 1, pad: 'x'.repeat(300 * 1024) }))
    h.bus.send('sensors/big', JSON.stringify({ value: 42, pad: 'x'.repeat(100 * 1024) }))
    expect((await command).command).toEqual({ brightness: 42 })
    expect(h.lines.find((line) => String(line.msg).startsWith('dropped a'))?.msg).toMatch(/\(over 262144\)$/)
  })

  it('stop() ends every run, restores what is configured, releases locks and unsubscribes', async () => {
    h = await harness({ 'party.yaml': party, 'alarm.yaml': alarm })
    const before = h.bulb().state
    h.bus.send('home/alarm', 'ON')
    await h.bulb().waitForCommands(2)
    await h.engine.stop()
    const last = h.bulb().commandLog.at(-1)!
    expect(last.origin?.holder).toBe('alarm')
    expect(last.state).toMatchObject({ on: before.on, brightness: before.brightness, colorTemp: before.colorTemp })
    expect(h.protocol.idle).toBe(true)
    expect(h.bus.subscriptionCount).toBe(0)
    h.bus.send('home/alarm', 'ON')
    expect(h.bulb().commandLog.at(-1)).toBe(last)
  })

  it('stop() gives up restoring a hung bulb instead of hanging with it', async () => {
    h = await harness({ 'alarm.yaml': alarm }, { restoreTimeoutMs: 30 })
    h.bus.send('home/alarm', 'ON')
    await h.bulb().waitForCommands(2)
    h.bulb().setHung(true)
    await h.engine.stop()
    expect(h.lines.some((line) => line.msg === 'gave up restoring bath_bulb: no answer within 30 ms')).toBe(true)
    h.bulb().setHung(false)
  })

  it('start() after stop() listens to each trigger once', async () => {
    h = await harness({ 'party.yaml': party })
    await h.engine.stop()
    expect(h.bus.subscriptionCount).toBe(0)
    h.engine.start()
    h.bus.send('home/party', 'ON')
    await h.status('party', 'running')
    expect(h.lines.filter((line) => line.msg === 'triggered by mqtt home/party')).toHaveLength(1)
  })

  it('a removed automation reports no status after its removal, though its run ends later', async () => {
    h = await harness({ 'party.yaml': party, 'alarm.yaml': alarm })
    h.bus.send('home/alarm', 'ON')
    await h.bulb().waitForCommands(2)
    const after: string[] = []
    h.engine.on('status', (status) => after.push(`${status.name}:${status.state}`))
    const stopped = h.logged('stopped')
    const restored = h.logged('restored bath_bulb')
    h.engine.load([parseAutomationFile('party.yaml', known, party)])
    await stopped
    await restored
    expect(after.filter((entry) => entry.startsWith('alarm:'))).toEqual([])
    expect(h.engine.status().map((status) => status.name)).toEqual(['party'])
  })

  it('a disabled automation ignores its triggers but still answers its command topic', async () => {
    h = await harness({ 'party.yaml': party.replace('priority: 0', 'priority: 0\nenabled: false') })
    h.bus.send('home/party', 'ON')
    expect(h.engine.status()).toEqual([{ name: 'party', state: 'idle' }])
    const first = h.bulb().nextCommand()
    h.bus.send('genlock/automation/party/set', 'ON')
    expect((await first).command).toEqual({ color: 'red', brightness: 80 })
    h.bus.send('home/party', 'OFF')
    await h.status('party', 'idle')
  })

  it('reports status changes as events, and who holds each device', async () => {
    h = await harness({ 'party.yaml': party, 'alarm.yaml': alarm })
    const seen: string[] = []
    h.engine.on('status', (status) => seen.push(`${status.name}:${status.state}`))
    h.bus.send('home/party', 'ON')
    await h.status('party', 'running')
    expect(h.engine.holderOf('bath_bulb')).toBe('party')
    h.bus.send('home/alarm', 'ON')
    await h.status('party', 'suspended')
    expect(h.engine.holderOf('bath_bulb')).toBe('alarm')
    h.bus.send('home/party', 'OFF')
    h.bus.send('home/alarm', 'OFF')
    await h.status('alarm', 'idle')
    // A free lock is granted at once: no `waiting` in between.
    expect(seen).toEqual(['party:running', 'alarm:running', 'party:suspended', 'party:idle', 'alarm:idle'])
  })
})

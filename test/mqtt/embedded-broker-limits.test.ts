import { connect } from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { PacketSizeScanner } from '../../src/mqtt/packet-size-guard.js'
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/mqtt/index.js'
import { Observer } from './observer.js'
import { floodPublish, RawMqtt, subscribePacket } from './raw-mqtt.js'

interface Logged {
  readonly level: string
  readonly fields: Record<string, unknown>
  readonly message: string | undefined
}

function recorder() {
  const lines: Logged[] = []
  const at = (level: string) => (fields: object, message?: string) =>
    lines.push({ level, fields: fields as Record<string, unknown>, message })
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } }
}

let broker: EmbeddedBroker | undefined
const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
  await broker?.close()
  broker = undefined
})

async function observe(topics: string[]): Promise<Observer> {
  const observer = await Observer.connect(broker!.url, topics)
  cleanups.push(() => observer.close())
  return observer
}

describe('PacketSizeScanner', () => {
  it('follows packets split anywhere, and reports the first over the limit from its header alone', () => {
    const scanner = new PacketSizeScanner(200)
    // PINGREQ (no body), a 100-byte PUBLISH split mid-length and mid-body, then a header announcing 300 bytes.
    const stream = Buffer.concat([
      Buffer.from([0xc0, 0x00]),
      Buffer.from([0x30, 100]),
      Buffer.alloc(100, 1),
      Buffer.from([0x30, 0xac, 0x02]),
    ])
    expect(scanner.scan(stream.subarray(0, 3))).toBeUndefined()
    expect(scanner.scan(stream.subarray(3, 50))).toBeUndefined()
    expect(scanner.scan(stream.subarray(50, 104))).toBeUndefined()
    expect(scanner.scan(stream.subarray(104, 106))).toBeUndefined()
    expect(scanner.scan(stream.subarray(106))).toBe(1 + 2 + 300)
  })

  it('reports a remaining length longer than four bytes as malformed', () => {
    expect(new PacketSizeScanner(1e9).scan(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(-1)
  })
})

describe('embedded broker: maximum packet size', () => {
  it('ends a connection whose packet header announces more than max_packet_bytes, before the payload arrives', async () => {
    const { lines, logger } = recorder()
    broker = await startEmbeddedBroker({ port: 0, logger, limits: { maxPacketBytes: 64 * 1024 } })
    const observer = await observe(['flood/#'])
    const { written, complete } = await floodPublish(broker.port, 100 * 1024 * 1024)
    expect(complete).toBe(false)
    // The socket takes a few MB before the kernel pushes back; nowhere near the 100 MB announced.
    expect(written).toBeLessThan(20 * 1024 * 1024)
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'mqtt client sent a packet over mqtt.max_packet_bytes; disconnected',
        fields: expect.objectContaining({ limit: 64 * 1024 }),
      }),
    )
    await observer.publish('flood/after', 'still here')
    await observer.waitForPayload('flood/after', 'still here')
    expect(observer.seen.map((m) => m.topic)).toEqual(['flood/after'])
  })

  it('passes packets up to the limit, and drops the client that sends a bigger one', async () => {
    broker = await startEmbeddedBroker({ port: 0, limits: { maxPacketBytes: 64 * 1024 } })
    const observer = await observe(['size/#'])
    const client = connect(broker.url, { reconnectPeriod: 0 })
    cleanups.push(() => client.endAsync(true))
    await new Promise((resolve) => client.once('connect', resolve))
    await client.publishAsync('size/fits', Buffer.alloc(60 * 1024), { qos: 1 })
    await observer.waitFor((m) => m.topic === 'size/fits')
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    client.publish('size/too-big', Buffer.alloc(65 * 1024), { qos: 0 })
    await closed
    await observer.publish('size/after', 'x')
    await observer.waitForPayload('size/after', 'x')
    expect(observer.seen.map((m) => m.topic)).toEqual(['size/fits', 'size/after'])
  })
})

describe('embedded broker: queued messages per client', () => {
  it('keeps at most max_queued_messages for an offline persistent session, and warns once', async () => {
    const { lines, logger } = recorder()
    broker = await startEmbeddedBroker({ port: 0, logger, limits: { maxQueuedMessages: 5 } })
    const away = await RawMqtt.open(broker.port)
    expect(await away.login('away', { clean: false })).toBe(0)
    away.socket.write(subscribePacket(1, 'queue/#', 1))
    await away.next((p) => p.type === 9)
    away.end()
    await away.closed

    const publisher = await observe([])
    for (let i = 1; i <= 12; i++) await publisher.publish(`queue/${i}`, String(i))

    const back = await RawMqtt.open(broker.port)
    cleanups.push(() => back.destroy())
    expect(await back.login('away', { clean: false })).toBe(0)
    const delivered = await back.count(3, 5)
    expect(delivered.map((p) => RawMqtt.publishOf(p).payload)).toEqual(['1', '2', '3', '4', '5'])
    await publisher.publish('queue/after', 'fresh')
    await back.next((p) => p.type === 3 && RawMqtt.publishOf(p).payload === 'fresh')
    expect(back.packets.filter((p) => p.type === 3)).toHaveLength(6)
    expect(lines.filter((line) => /too many unacknowledged messages/.test(line.message ?? ''))).toHaveLength(1)
  })

  it('keeps delivering to an online client that does not acknowledge, keeping only the limit for redelivery', async () => {
    broker = await startEmbeddedBroker({ port: 0, limits: { maxQueuedMessages: 3 } })
    const slow = await RawMqtt.open(broker.port)
    expect(await slow.login('slow', { clean: false })).toBe(0)
    slow.socket.write(subscribePacket(1, 'slow/#', 1))
    await slow.next((p) => p.type === 9)
    const publisher = await observe([])
    for (let i = 1; i <= 6; i++) await publisher.publish(`slow/${i}`, String(i))
    const live = await slow.count(3, 6)
    expect(live.map((p) => RawMqtt.publishOf(p).payload)).toEqual(['1', '2', '3', '4', '5', '6'])
    expect(slow.isClosed).toBe(false)
    slow.destroy()
    await slow.closed

    const again = await RawMqtt.open(broker.port)
    cleanups.push(() => again.destroy())
    expect(await again.login('slow', { clean: false })).toBe(0)
    await again.count(3, 3)
    await publisher.publish('slow/fresh', 'fresh')
    const after = await again.count(3, 4)
    expect(after.map((p) => RawMqtt.publishOf(p).payload)).toEqual(['1', '2', '3', 'fresh'])
  })
})

describe('embedded broker: total size of retained messages', () => {
  it('refuses a retained message that would exceed max_retained_bytes; replacing and clearing still work', async () => {
    const { lines, logger } = recorder()
    broker = await startEmbeddedBroker({ port: 0, logger, limits: { maxRetainedBytes: 1000 } })
    const writer = connect(broker.url, { reconnectPeriod: 0 })
    cleanups.push(() => writer.endAsync(true))
    await new Promise((resolve) => writer.once('connect', resolve))
    await writer.publishAsync('r/one', Buffer.alloc(600, 97), { qos: 1, retain: true })
    const refused = new Promise<void>((resolve) => writer.once('close', () => resolve()))
    writer.publish('r/two', Buffer.alloc(600, 98), { qos: 0, retain: true })
    await refused
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        fields: expect.objectContaining({ topic: 'r/two', bytes: 600, limit: 1000 }),
      }),
    )
    const reader = await observe(['r/#'])
    await reader.waitFor((m) => m.topic === 'r/one' && m.retain)
    expect(reader.seen.map((m) => m.topic)).toEqual(['r/one'])

    await reader.publish('r/one', Buffer.alloc(900, 99), true)
    await reader.publish('r/one', '', true)
    await reader.publish('r/two', Buffer.alloc(900, 100), true)
    const late = await observe(['r/#'])
    await late.waitFor((m) => m.topic === 'r/two' && m.retain && m.payload.length === 900)
    expect(late.seen.filter((m) => m.retain).map((m) => m.topic)).toEqual(['r/two'])
  })
})

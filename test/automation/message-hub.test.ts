import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { MAX_REMEMBERED_BYTES, MessageHub } from '../../src/automation/message-hub.js'
import { LocalBus } from './support.js'

const hubOn = (bus: LocalBus) => new MessageHub(bus, pino({ level: 'silent' }), 1024 * 1024)

describe('MessageHub: last payloads (issue 13.3)', () => {
  it('keeps nothing of topics only a wildcard watches', () => {
    const bus = new LocalBus()
    const hub = hubOn(bus)
    let heard = 0
    hub.watch('zigbee2mqtt/+', () => heard++)
    for (let i = 0; i < 100; i++) bus.send(`zigbee2mqtt/device${i}`, 'payload')
    expect(heard).toBe(100)
    expect(hub.last('zigbee2mqtt/device99')).toBeUndefined()
  })

  it('keeps the last payload of a topic asked for, until the last one who asked lets it go', () => {
    const bus = new LocalBus()
    const hub = hubOn(bus)
    const first = hub.keepLast('home/temp')
    const second = hub.keepLast('home/temp')
    bus.send('home/temp', '21')
    bus.send('home/temp', '22')
    expect(hub.last('home/temp')?.payload).toBe('22')
    first()
    first()
    expect(hub.last('home/temp')?.payload).toBe('22')
    second()
    expect(hub.last('home/temp')).toBeUndefined()
    expect(bus.subscriptionCount).toBe(0)
  })

  it('is bounded in bytes: the oldest payloads are forgotten first', () => {
    const bus = new LocalBus()
    const hub = hubOn(bus)
    const payload = 'x'.repeat(512 * 1024)
    const topics = Array.from({ length: (2 * MAX_REMEMBERED_BYTES) / payload.length }, (_, i) => `big/${i}`)
    for (const topic of topics) hub.keepLast(topic)
    for (const topic of topics) bus.send(topic, payload)
    const kept = topics.filter((topic) => hub.last(topic) !== undefined)
    expect(kept.length * payload.length).toBeLessThanOrEqual(MAX_REMEMBERED_BYTES)
    expect(kept).toEqual(topics.slice(topics.length - kept.length))
    expect(kept.length).toBeGreaterThan(0)
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BusMessage } from '../../src/bus/index.js'
import { MqttConnection } from '../../src/mqtt/connection.js'
import { startEmbeddedBroker } from '../../src/mqtt/broker.js'
import { redactUrl, type MqttLogger } from '../../src/mqtt/logger.js'
import { startMosquitto, type ServiceProcess } from '../support/services.js'
import { TcpGate } from '../support/tcp-gate.js'
import { Observer } from './observer.js'

type Logged = { level: string; fields: object; message: string | undefined }

function recordingLogger(): MqttLogger & { lines: Logged[]; next(match: (l: Logged) => boolean): Promise<Logged> } {
  const lines: Logged[] = []
  const waiters: { match: (l: Logged) => boolean; resolve: (l: Logged) => void }[] = []
  const log = (level: string) => (fields: object, message?: string) => {
    const line = { level, fields, message }
    lines.push(line)
    for (const waiter of waiters.splice(0)) {
      if (waiter.match(line)) waiter.resolve(line)
      else waiters.push(waiter)
    }
  }
  return {
    lines,
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    next: (match) => new Promise((resolve) => waiters.push({ match, resolve })),
  }
}

function nextOn(bus: MqttConnection, pattern: string): Promise<BusMessage> {
  return new Promise((resolve) => {
    const off = bus.subscribe(pattern, (message) => {
      off()
      resolve(message)
    })
  })
}

describe('MqttConnection on a real mosquitto', () => {
  let broker: ServiceProcess & { url: string }
  let observer: Observer

  beforeAll(async () => {
    broker = await startMosquitto({ persistence: true })
    observer = await Observer.connect(broker.url)
  })
  afterAll(async () => {
    await observer.close()
    await broker.dispose()
  })

  it('publishes online (retained) once announced, not on connect, and offline on close', async () => {
    const from = observer.mark
    const bus = await MqttConnection.open({ url: broker.url, clientId: 'status-test', baseTopic: 'st' })
    // A round trip through the broker after connecting: had `online` gone out on connect, it would be here first.
    await observer.publish('st/probe', 'x')
    await observer.waitForPayload('st/probe', 'x', from)
    expect(observer.seen.slice(from).filter((m) => m.topic === 'st/status')).toEqual([])
    await bus.announceOnline()
    await observer.waitForPayload('st/status', 'online', from)
    await bus.close()
    await observer.waitForPayload('st/status', 'offline', from)
    const late = await Observer.connect(broker.url, ['st/status'])
    const retained = await late.waitFor((m) => m.topic === 'st/status')
    expect(retained).toMatchObject({ payload: 'offline', retain: true })
    await late.close()
  })

  it('publishes offline as its last will when it dies without closing', async () => {
    const from = observer.mark
    const bus = await MqttConnection.open({ url: broker.url, clientId: 'will-test', baseTopic: 'will' })
    await bus.announceOnline()
    await observer.waitForPayload('will/status', 'online', from)
    // Tear the socket down the way a crash would: no DISCONNECT packet, so the broker sends the will.
    const client = (bus as unknown as { client: { stream: { destroy(): void }; options: { reconnectPeriod: number } } })
      .client
    client.options.reconnectPeriod = 0
    client.stream.destroy()
    const will = await observer.waitForPayload('will/status', 'offline', from)
    expect(will.topic).toBe('will/status')
    await bus.close()
  })

  it('delivers by wildcard to every matching handler, once each', async () => {
    const bus = await MqttConnection.open({ url: broker.url, clientId: 'wild-test', baseTopic: 'wild' })
    const plus = nextOn(bus, 'home/+/light')
    const hash = nextOn(bus, 'home/#')
    const exact = nextOn(bus, 'home/bath/light')
    await observer.publish('home/bath/light', 'ON')
    const got = await Promise.all([plus, hash, exact])
    expect(got.map((m) => [m.topic, m.payload.toString()])).toEqual([
      ['home/bath/light', 'ON'],
      ['home/bath/light', 'ON'],
      ['home/bath/light', 'ON'],
    ])
    await bus.close()
  })

  it('logs and drops an oversized payload, and keeps delivering', async () => {
    const logger = recordingLogger()
    const bus = await MqttConnection.open({
      url: broker.url,
      clientId: 'size-test',
      baseTopic: 'size',
      maxPayloadBytes: 1024,
      logger,
    })
    const received: string[] = []
    const small = new Promise<void>((resolve) =>
      bus.subscribe('in/data', (m) => {
        received.push(m.payload.toString().slice(0, 5))
        if (m.payload.toString() === 'small') resolve()
      }),
    )
    const dropped = logger.next((l) => l.message === 'mqtt payload too large; dropped')
    await observer.publish('in/data', Buffer.alloc(4096, 'x'))
    expect((await dropped).fields).toMatchObject({ topic: 'in/data', bytes: 4096, limit: 1024 })
    await observer.publish('in/data', 'small')
    await small
    expect(received).toEqual(['small'])
    await bus.close()
  })

  it('keeps delivering when one handler throws', async () => {
    const logger = recordingLogger()
    const bus = await MqttConnection.open({ url: broker.url, clientId: 'throw-test', baseTopic: 'throw', logger })
    bus.subscribe('t/x', () => {
      throw new Error('boom')
    })
    const ok = nextOn(bus, 't/x')
    const failed = logger.next((l) => l.message === 'mqtt message handler failed')
    await observer.publish('t/x', '1')
    expect((await ok).payload.toString()).toBe('1')
    expect((await failed).fields).toMatchObject({ topic: 't/x', err: 'boom' })
    await bus.close()
  })

  it('backs off exponentially while the broker is away, and starts over once it is back', async () => {
    const logger = recordingLogger()
    const bus = await MqttConnection.open({
      url: broker.url,
      clientId: 'backoff-test',
      baseTopic: 'bo',
      reconnectDelay: 10,
      maxReconnectDelay: 40,
      logger,
    })
    const scheduled = (from: number) =>
      logger.lines
        .slice(from)
        .filter((l) => l.message === 'mqtt reconnect scheduled')
        .map((l) => (l.fields as { retryInMs: number }).retryInMs)
    const fifth = (async () => {
      while (scheduled(0).length < 5) await logger.next((l) => l.message === 'mqtt reconnect scheduled')
    })()
    await broker.stop()
    await fifth
    expect(scheduled(0).slice(0, 5)).toEqual([10, 20, 40, 40, 40])
    const back = logger.next((l) => l.message === 'mqtt connected')
    await broker.start()
    await back
    const mark = logger.lines.length
    const lostAgain = logger.next((l) => l.message === 'mqtt reconnect scheduled')
    await broker.restart()
    await lostAgain
    expect(scheduled(mark)[0]).toBe(10)
    await bus.close()
  })

  it('holds a message queued for its session until someone subscribes to it, then delivers it (holdUnhandled)', async () => {
    const first = await MqttConnection.open({ url: broker.url, clientId: 'held-test', baseTopic: 'held' })
    first.subscribe('home/queued', () => {})
    await first.settled()
    first.beginClose()
    await first.close()
    // Sent while we are away: the broker keeps it for our persistent session.
    await observer.publish('home/queued', 'while away')
    const logger = recordingLogger()
    const bus = await MqttConnection.open({
      url: broker.url,
      clientId: 'held-test',
      baseTopic: 'held',
      holdUnhandled: true,
      logger,
    })
    // A round trip through the broker: the queued message, sent right after CONNACK, is surely here by now.
    const probe = nextOn(bus, 'held/probe')
    await bus.settled()
    await observer.publish('held/probe', 'x')
    await probe
    const got = nextOn(bus, 'home/queued')
    bus.release()
    expect((await got).payload.toString()).toBe('while away')
    expect(logger.lines.map((l) => l.message)).toContain('mqtt delivering messages queued for us while we were away')
    await bus.close()
  })

  it('rejects invalid topics with a message naming them', async () => {
    const bus = await MqttConnection.open({ url: broker.url, clientId: 'bad-topic', baseTopic: 'bad' })
    await expect(bus.publish('home/+', 'x')).rejects.toThrow(/home\/\+.*wildcards/)
    expect(() => bus.subscribe('home/#/x', () => {})).toThrow(/# must be/)
    await bus.close()
  })

  it('gets a QoS 1 message published while mosquitto restarts (persistent session)', async () => {
    const logger = recordingLogger()
    const bus = await MqttConnection.open({
      url: broker.url,
      clientId: 'restart-test',
      baseTopic: 'rs',
      reconnectDelay: 50,
      maxReconnectDelay: 200,
      logger,
    })
    const trigger = nextOn(bus, 'home/alarm')
    // In the session before the restart: a SUBSCRIBE mosquitto had not read when it stopped would only be sent again
    // after the restart, racing the message below.
    await bus.settled()
    const lost = logger.next((l) => l.message === 'mqtt connection lost; reconnecting')
    await broker.stop()
    await lost
    // Published while the broker is down: the sender queues it, mosquitto keeps our session across its restart.
    const sent = observer.publish('home/alarm', 'ON')
    await broker.start()
    await sent
    expect((await trigger).payload.toString()).toBe('ON')
    await bus.close()
  })

  it('subscribes again when a drop took its SUBSCRIBE down before the broker read it, though the session was kept', async () => {
    const gate = await TcpGate.open({ host: '127.0.0.1', port: broker.port })
    const logger = recordingLogger()
    const bus = await MqttConnection.open({
      url: `mqtt://127.0.0.1:${gate.port}`,
      clientId: 'lost-subscribe-test',
      baseTopic: 'ls',
      reconnectDelay: 20,
      maxReconnectDelay: 50,
      logger,
    })
    try {
      bus.subscribe('ls/mark', () => {})
      await bus.settled()
      const alarms: string[] = []
      gate.hold()
      bus.subscribe('home/lost-subscribe', (message) => alarms.push(message.payload.toString()))
      await gate.heldBytes(1) // the SUBSCRIBE, waiting in the gate: mosquitto never reads it
      const reconnected = logger.next((l) => l.message === 'mqtt connected')
      gate.cut()
      expect(((await reconnected).fields as { sessionPresent: boolean }).sessionPresent).toBe(true)
      await bus.settled()
      // mosquitto delivers one publisher's messages in order: once the mark is here, the alarm would be too.
      const marked = nextOn(bus, 'ls/mark')
      await observer.publish('home/lost-subscribe', 'ON')
      await observer.publish('ls/mark', 'after')
      expect((await marked).payload.toString()).toBe('after')
      expect(alarms).toEqual(['ON'])
      expect(logger.lines.map((l) => l.message)).toContain('mqtt subscribe not acknowledged; retrying on reconnect')
    } finally {
      await bus.close()
      await gate.close()
    }
  })
})

describe('online means ready', () => {
  it('a client that publishes the moment it sees online reaches our subscriptions, at start and after a restart that lost our session', async () => {
    const broker = await startMosquitto() // no persistence: a restart forgets our session and subscriptions
    const logger = recordingLogger()
    const ha = await Observer.connect(broker.url, ['ready/status', 'ready/warmup'])
    /**
     * Like Home Assistant: publishes `home/go <n>` the instant it sees `online` on `ready/status` (live, or retained
     * when it resubscribed after the restart later than we said it).
     */
    let round = 0
    ha.client.on('message', (topic, payload) => {
      if (topic === 'ready/status' && payload.toString() === 'online')
        ha.client.publish('home/go', String(++round), { qos: 1 })
    })
    const bus = await MqttConnection.open({
      url: broker.url,
      clientId: 'ready-test',
      baseTopic: 'ready',
      reconnectDelay: 20,
      maxReconnectDelay: 50,
      logger,
    })
    try {
      // Start-up work takes a broker round trip or more (devices, files) before the automations subscribe.
      await ha.publish('ready/warmup', 'x')
      await ha.waitForPayload('ready/warmup', 'x')
      const received: string[] = []
      const got = (n: string) =>
        new Promise<void>((resolve) => {
          const off = bus.subscribe('home/go', (message) => {
            received.push(message.payload.toString())
            if (message.payload.toString() === n) {
              off()
              resolve()
            }
          })
        })
      const first = got('1')
      await bus.announceOnline()
      await first
      const second = got('2')
      const reconnected = logger.next((l) => l.message === 'mqtt connected')
      await broker.restart()
      expect(((await reconnected).fields as { sessionPresent: boolean }).sessionPresent).toBe(false)
      await second
      expect(received).toEqual(['1', '2'])
      // What the health report and the metrics count.
      expect(bus.traffic.reconnects).toBe(1)
      expect(bus.traffic.received).toBeGreaterThanOrEqual(2)
    } finally {
      await bus.close()
      await ha.close()
      await broker.dispose()
    }
  })

  it('a guest says nothing on <base>/status and fails fast on a broker it cannot reach', async () => {
    const broker = await startMosquitto()
    const observer = await Observer.connect(broker.url, ['guest/#'])
    try {
      const guest = await MqttConnection.open({
        url: broker.url,
        clientId: 'guest-test',
        baseTopic: 'guest',
        guest: true,
        firstConnectTimeoutMs: 2000,
      })
      await guest.announceOnline()
      await guest.close()
      await observer.publish('guest/probe', 'x')
      await observer.waitForPayload('guest/probe', 'x')
      expect(observer.seen.map((m) => m.topic)).toEqual(['guest/probe'])
    } finally {
      await observer.close()
      await broker.dispose()
    }
    const logger = recordingLogger()
    await expect(
      MqttConnection.open({
        url: broker.url,
        clientId: 'guest-gone',
        baseTopic: 'guest',
        guest: true,
        firstConnectTimeoutMs: 2000,
        logger,
      }),
    ).rejects.toThrow(new RegExp(`^cannot reach the MQTT broker ${broker.url.replace(/[.]/g, '\\.')}: `))
    expect(logger.lines.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([])
  })
})

describe('embedded broker', () => {
  it('carries messages between connections on 127.0.0.1', async () => {
    const broker = await startEmbeddedBroker({ port: 0 })
    const bus = await MqttConnection.open({ url: broker.url, clientId: 'embedded', baseTopic: 'emb' })
    const observer = await Observer.connect(broker.url, ['emb/#'])
    await bus.announceOnline()
    await observer.waitForPayload('emb/status', 'online')
    const got = nextOn(bus, 'home/party')
    await observer.publish('home/party', 'ON')
    expect((await got).payload.toString()).toBe('ON')
    await bus.close()
    await observer.close()
    await broker.close()
  })
})

describe('a subscription dropped and taken again (what a hot reload does)', () => {
  it('keeps delivering on the embedded broker, which handles UNSUBSCRIBE and SUBSCRIBE of one read concurrently', async () => {
    const broker = await startEmbeddedBroker({ port: 0 })
    const bus = await MqttConnection.open({ url: broker.url, clientId: 'resub', baseTopic: 'resub' })
    const observer = await Observer.connect(broker.url, [])
    try {
      for (let round = 1; round <= 5; round++) {
        const off = bus.subscribe('home/party', () => {})
        await bus.settled()
        // An automation replaced by its new version: the old one lets go, the new one subscribes, same tick.
        off()
        const got = nextOn(bus, 'home/party')
        await bus.settled()
        await observer.publish('home/party', `ON ${round}`)
        expect((await got).payload.toString()).toBe(`ON ${round}`)
      }
    } finally {
      await bus.close()
      await observer.close()
      await broker.close()
    }
  })

  it('keeps what is wanted again before holdUnsubscribes ends, and lets go of the rest after', async () => {
    const broker = await startEmbeddedBroker({ port: 0 })
    const bus = await MqttConnection.open({ url: broker.url, clientId: 'hold', baseTopic: 'hold' })
    // aedes announces every UNSUBSCRIBE it handles on $SYS: what reached the broker, not just what we did locally.
    const sys = await Observer.connect(broker.url, ['$SYS/+/new/unsubscribes'])
    const unsubscribed = () =>
      sys.seen
        .map((m) => JSON.parse(m.payload) as { clientId: string; subs: string[] })
        .filter((body) => body.clientId === 'hold')
        .flatMap((body) => body.subs)
    try {
      const kept = bus.subscribe('home/kept', () => {})
      const dropped = bus.subscribe('home/dropped', () => {})
      await bus.settled()
      const resume = bus.holdUnsubscribes()
      kept()
      dropped()
      // A reload reads files and starts bulbs in between: the event loop turns many times.
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(unsubscribed()).toEqual([])
      const got = nextOn(bus, 'home/kept')
      resume()
      await sys.waitFor((m) => m.payload.includes('"hold"'))
      expect(unsubscribed()).toEqual(['home/dropped'])
      await sys.publish('home/kept', 'still here')
      expect((await got).payload.toString()).toBe('still here')
    } finally {
      await bus.close()
      await sys.close()
      await broker.close()
    }
  })
})

describe('redactUrl', () => {
  it('hides passwords', () => {
    expect(redactUrl('mqtts://ha:secret@broker:8883')).toBe('mqtts://ha:***@broker:8883')
    expect(redactUrl('mqtt://broker:1883')).toBe('mqtt://broker:1883')
  })
})

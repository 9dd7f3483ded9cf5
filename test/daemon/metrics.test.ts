/**
 * `/metrics` end to end: a real mosquitto, the daemon in this process running the party and alarm, the
 * metrics route served by a plain node:http server (the daemon's own listener serves it the same way) and scraped
 * with fetch while the alarm holds the bulb and after.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/config/logger.js'
import { Daemon } from '../../src/daemon/index.js'
import { Metrics } from '../../src/daemon/extensions/metrics/metrics.js'
import type { SimBulb, SimCommandLogEntry } from '../../src/devices/index.js'
import type { LockEvent } from '../../src/lock/index.js'
import { ALARM, PARTY, simBulb, writeSetup } from '../cli/setup-files.js'
import { Observer } from '../mqtt/observer.js'
import { freePort, startMosquitto, type ServiceProcess } from '../support/services.js'
import { LogCapture } from './harness.js'

const by = (holder: string) => (entry: SimCommandLogEntry) => entry.origin?.holder === holder

/** The value of the sample `name{labels}` in Prometheus text, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match || match[1] !== name) continue
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3])
  }
  return undefined
}

describe('the /metrics route', () => {
  let mosquitto: ServiceProcess & { url: string }
  let mqtt: Observer
  let daemon: Daemon | undefined
  let server: Server | undefined

  beforeAll(async () => {
    mosquitto = await startMosquitto()
    mqtt = await Observer.connect(mosquitto.url)
  })
  afterEach(async () => {
    await daemon?.stop()
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
    daemon = undefined
    server = undefined
  })
  afterAll(async () => {
    await mqtt.close()
    await mosquitto.dispose()
  })

  it('counts lock waits, preemptions by priority pair, command latency, queue depth, runs and MQTT traffic', async () => {
    const { configFile } = writeSetup({
      config: `mqtt: { url: "${mosquitto.url}", base_topic: metrics_${process.pid}, client_id: metrics_${process.pid} }\n`,
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
      automations: { 'party.yaml': PARTY, 'alarm.yaml': ALARM },
    })
    const metrics = new Metrics()
    const logs = new LogCapture()
    const logger = createLogger({ level: 'debug', pretty: false, destination: logs.stream })
    daemon = await Daemon.start(configFile, { logger, watch: false, extensions: [metrics] })
    const route = metrics.route()
    expect([route.method, route.path]).toEqual(['GET', '/metrics'])
    server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost')
      if (request.method === route.method && url.pathname === route.path) void route.handle(request, response, url)
      else response.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const scrape = async () => {
      const response = await fetch(`http://127.0.0.1:${(server!.address() as AddressInfo).port}/metrics`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
      return response.text()
    }

    const bulb = daemon.devices.get('bath_bulb') as SimBulb
    const owner = { name: 'test' }
    const partyWaits = new Promise<void>((resolve) =>
      daemon!.events.on(owner, 'lock', (event: LockEvent) => {
        if (event.type === 'waiting' && event.lockerGuid === 'automation:party') resolve()
      }),
    )
    const blue = bulb.nextCommand((entry) => by('party')(entry) && entry.state.color?.b === 255)
    await mqtt.publish('home/party', 'ON')
    await blue
    await mqtt.publish('home/alarm', 'ON')
    await partyWaits
    // The alarm holds the bulb; the party waits for it.
    const during = await scrape()
    expect(sample(during, 'genlock_lock_queue_depth', { device: 'bath_bulb' })).toBe(1)
    expect(sample(during, 'genlock_preemptions_total', { priority: '0', by_priority: '200' })).toBe(1)

    const partyBack = bulb.nextCommand(by('party'))
    await mqtt.publish('home/alarm', 'OFF')
    await partyBack
    const ended = new Promise<void>((resolve) =>
      daemon!.events.on(owner, 'run', (event) => {
        if (event.type === 'ended' && event.automation === 'party') resolve()
      }),
    )
    await mqtt.publish('home/party', 'OFF')
    await ended

    const after = await scrape()
    expect(sample(after, 'genlock_lock_queue_depth', { device: 'bath_bulb' })).toBe(0)
    expect(sample(after, 'genlock_runs_total', { automation: 'party', result: 'stopped' })).toBe(1)
    expect(sample(after, 'genlock_runs_total', { automation: 'alarm', result: 'stopped' })).toBe(1)
    // The party's first grant (free bulb), the alarm's, the party's after the alarm (it waited), the alarm's restore.
    expect(sample(after, 'genlock_lock_wait_seconds_count', { device: 'bath_bulb' })).toBeGreaterThanOrEqual(3)
    expect(sample(after, 'genlock_lock_wait_seconds_sum', { device: 'bath_bulb' })).toBeGreaterThan(0)
    const commands = sample(after, 'genlock_command_duration_seconds_count', { adapter: 'sim', result: 'ok' })
    expect(commands).toBeGreaterThanOrEqual(4)
    expect(sample(after, 'genlock_command_duration_seconds_bucket', { adapter: 'sim', result: 'ok', le: '+Inf' })).toBe(
      commands,
    )
    // Four triggers in, state topics out.
    expect(sample(after, 'genlock_mqtt_messages_received_total')).toBeGreaterThanOrEqual(4)
    expect(sample(after, 'genlock_mqtt_messages_published_total')).toBeGreaterThan(0)
    expect(sample(after, 'genlock_mqtt_reconnects_total')).toBe(0)
    expect(sample(after, 'genlock_process_resident_memory_bytes')).toBeGreaterThan(0)
  })
  it('is served on the daemon’s own listener with http.metrics, and not without it', async () => {
    const served = async (metrics: boolean) => {
      const port = await freePort()
      const { configFile } = writeSetup({
        config:
          `mqtt: { url: "${mosquitto.url}", base_topic: metrics_http_${process.pid}, client_id: metrics_http_${process.pid} }\n` +
          `http: { port: ${port}, metrics: ${metrics} }\n`,
        devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
        automations: { 'party.yaml': PARTY },
      })
      daemon = await Daemon.start(configFile, { logLevel: 'silent', watch: false })
      const response = await fetch(`http://127.0.0.1:${port}/metrics`)
      const text = await response.text()
      await daemon.stop()
      daemon = undefined
      return { status: response.status, text }
    }
    const on = await served(true)
    expect(on.status).toBe(200)
    expect(sample(on.text, 'genlock_mqtt_reconnects_total')).toBe(0)
    const off = await served(false)
    expect(off.status).toBe(404)
    expect(sample(off.text, 'genlock_mqtt_reconnects_total')).toBeUndefined()
  })
})

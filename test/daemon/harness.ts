import { afterAll, afterEach, beforeAll } from 'vitest'
import { Writable } from 'node:stream'
import { Daemon, type ReloadOutcome } from '../../src/daemon/index.js'
import { createLogger } from '../../src/config/logger.js'
import type { SimBulb } from '../../src/devices/index.js'
import { writeSetup } from '../cli/setup-files.js'
import { Observer } from '../mqtt/observer.js'
import { startMosquitto, type ServiceProcess } from '../support/services.js'

export interface LogEntry {
  readonly level: number
  readonly msg: string
  readonly [field: string]: unknown
}

/** The daemon's JSON log lines, kept so a test can wait for the one it expects. */
export class LogCapture {
  readonly entries: LogEntry[] = []
  private waiters: { match: (entry: LogEntry) => boolean; resolve: (entry: LogEntry) => void }[] = []
  readonly stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) this.add(JSON.parse(line) as LogEntry)
      done()
    },
  })

  waitFor(match: (entry: LogEntry) => boolean, from = 0): Promise<LogEntry> {
    const earlier = this.entries.slice(from).find(match)
    if (earlier) return Promise.resolve(earlier)
    return new Promise((resolve) => this.waiters.push({ match, resolve }))
  }

  get mark(): number {
    return this.entries.length
  }

  private add(entry: LogEntry): void {
    this.entries.push(entry)
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.match(entry)) return true
      waiter.resolve(entry)
      return false
    })
  }
}

export interface TestDaemon {
  readonly daemon: Daemon
  readonly logs: LogCapture
  readonly dir: string
  readonly configFile: string
  readonly baseTopic: string
  bulb(id: string): SimBulb
}

let counter = 0

/**
 * A daemon in this process on a real broker at `url` (or with the `mqtt:` keys given, e.g. an embedded broker),
 * built from the given device and automation files, logging (JSON) into a LogCapture. Each gets its own base
 * topic and client id so tests sharing a broker stay apart.
 */
export async function startTestDaemon(
  broker: string | { readonly mqtt: string },
  files: { devices: Record<string, string>; automations: Record<string, string> },
  extraConfig = '',
): Promise<TestDaemon> {
  const baseTopic = `gl${++counter}_${process.pid}`
  const mqtt = typeof broker === 'string' ? `url: "${broker}"` : broker.mqtt
  const { dir, configFile } = writeSetup({
    config: `mqtt: { ${mqtt}, base_topic: ${baseTopic}, client_id: ${baseTopic} }\n${extraConfig}`,
    ...files,
  })
  const logs = new LogCapture()
  const logger = createLogger({ level: 'debug', pretty: false, destination: logs.stream })
  const daemon = await Daemon.start(configFile, { logger, reloadDebounceMs: 50 })
  return {
    daemon,
    logs,
    dir,
    configFile,
    baseTopic,
    bulb: (id) => {
      const bulb = daemon.devices.get(id)
      if (!bulb) throw new Error(`no device ${id}`)
      return bulb as SimBulb
    },
  }
}

/** Resolves with the outcome of the daemon's next reload (hot reload on a file change, or `reload()`). */
export function nextReload(daemon: Daemon): Promise<ReloadOutcome> {
  const owner = { name: 'test' }
  return new Promise((resolve) => {
    daemon.events.on(owner, 'reloaded', (outcome) => {
      daemon.events.removeListeners(owner)
      resolve(outcome)
    })
  })
}

/** What {@link daemonTestBed} gives a test file. */
export interface DaemonTestBed {
  /** One mosquitto, on its default configuration, for the whole file. */
  readonly mosquitto: ServiceProcess & { url: string }
  /** An MQTT client on it that records everything (what Home Assistant would see and send). */
  readonly mqtt: Observer
  /** The daemon the running test started: stopped after each test. */
  running: TestDaemon | undefined
}

/** Starts a mosquitto and an observer for the test file, and stops each test's daemon after it (vitest hooks). */
export function daemonTestBed(): DaemonTestBed {
  let mosquitto: (ServiceProcess & { url: string }) | undefined
  let mqtt: Observer | undefined
  const bed: DaemonTestBed = {
    get mosquitto() {
      if (!mosquitto) throw new Error('the test bed starts in beforeAll')
      return mosquitto
    },
    get mqtt() {
      if (!mqtt) throw new Error('the test bed starts in beforeAll')
      return mqtt
    },
    running: undefined,
  }
  beforeAll(async () => {
    mosquitto = await startMosquitto()
    mqtt = await Observer.connect(mosquitto.url)
  })
  afterEach(async () => {
    await bed.running?.daemon.stop()
    bed.running = undefined
  })
  afterAll(async () => {
    await mqtt?.close()
    await mosquitto?.dispose()
  })
  return bed
}

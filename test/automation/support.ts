import { Writable } from 'node:stream'
import pino, { type Logger } from 'pino'
import { topicMatches, type BusMessage, type MessageBus, type PublishOptions } from '../../src/bus/index.js'
import { AutomationEngine, type AutomationEngineOptions } from '../../src/automation/engine.js'
import { parseAutomationFile } from '../../src/automation/parse.js'
import type { AutomationStatus } from '../../src/automation/status.js'
import type { Bulb, BulbState } from '../../src/devices/bulb.js'
import { SimBulb } from '../../src/devices/sim/sim-bulb.js'
import genLock, { type LockerFactory, type LockingProtocol, type MemoryProtocol } from '../../src/lock/index.js'
import { memoryProtocol } from '../../src/lock/index.js'

/**
 * An in-process MessageBus for engine-level tests: delivers every publish to matching subscribers at once.
 * (The same behaviours run over a real mosquitto in the daemon's end-to-end tests.)
 */
export class LocalBus implements MessageBus {
  private readonly subscriptions = new Set<{ pattern: string; handler: (message: BusMessage) => void }>()
  readonly published: { topic: string; payload: string; options?: PublishOptions }[] = []

  subscribe(pattern: string, handler: (message: BusMessage) => void): () => void {
    const subscription = { pattern, handler }
    this.subscriptions.add(subscription)
    return () => this.subscriptions.delete(subscription)
  }

  async publish(topic: string, payload: string | Buffer, options?: PublishOptions): Promise<void> {
    this.published.push({ topic, payload: payload.toString(), ...(options ? { options } : {}) })
    this.deliver(topic, payload)
  }

  /** What a Home Assistant `mqtt.publish` would do (`retain`: as a broker hands over a retained message). */
  send(topic: string, payload: string | Buffer, retain = false): void {
    this.deliver(topic, payload, retain)
  }

  get subscriptionCount(): number {
    return this.subscriptions.size
  }

  private deliver(topic: string, payload: string | Buffer, retain = false): void {
    const buffer = typeof payload === 'string' ? Buffer.from(payload) : payload
    for (const { pattern, handler } of [...this.subscriptions]) {
      if (topicMatches(pattern, topic)) handler({ topic, payload: buffer, retain })
    }
  }
}

/** A logger that keeps its JSON lines, for tests that check what was logged. */
export function capturingLogger(): {
  logger: Logger
  lines: Record<string, unknown>[]
  logged(predicate: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>
} {
  const lines: Record<string, unknown>[] = []
  const waiters = new Set<(line: Record<string, unknown>) => void>()
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) {
        if (!text) continue
        const line = JSON.parse(text) as Record<string, unknown>
        lines.push(line)
        for (const waiter of [...waiters]) waiter(line)
      }
      done()
    },
  })
  /** The next line written that matches. */
  const logged = (predicate: (line: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const waiter = (line: Record<string, unknown>) => {
        if (!predicate(line)) return
        waiters.delete(waiter)
        resolve(line)
      }
      waiters.add(waiter)
    })
  return { logger: pino({ level: 'debug' }, stream), lines, logged }
}

export interface Harness {
  readonly engine: AutomationEngine
  readonly bus: LocalBus
  readonly bulbs: Map<string, SimBulb>
  readonly protocol: MemoryProtocol
  readonly locks: LockerFactory
  readonly lines: Record<string, unknown>[]
  /** The next log line whose message includes `text`. */
  logged(text: string): Promise<Record<string, unknown>>
  bulb(id?: string): SimBulb
  /** Resolves when `name`'s status matches (at once if it already does). */
  status(name: string, state: AutomationStatus['state']): Promise<AutomationStatus>
  close(): Promise<void>
}

export interface HarnessOptions {
  devices?: string[]
  initialState?: BulbState
  retries?: number
  restoreTimeoutMs?: number
  /** `mqtt.max_payload_bytes` as the daemon passes it. */
  maxPayloadBytes?: number
  /** The engine's time options, as the daemon passes them from config.yaml and the data dir. */
  time?: Pick<AutomationEngineOptions, 'timezone' | 'location' | 'scheduleStore' | 'clock'>
}

/** An engine over sim bulbs, a LocalBus and the memory protocol, with `automations` given as YAML texts. */
export async function harness(automations: Record<string, string>, options: HarnessOptions = {}): Promise<Harness> {
  const protocol = memoryProtocol()
  return { ...(await harnessOver(protocol, automations, options)), protocol }
}

/** The same over any locking protocol (the caller closes it). */
export async function harnessOver(
  protocol: LockingProtocol,
  automations: Record<string, string>,
  options: HarnessOptions = {},
): Promise<Omit<Harness, 'protocol'>> {
  const ids = options.devices ?? ['bath_bulb']
  const bulbs = new Map<string, SimBulb>()
  for (const id of ids) {
    const bulb = new SimBulb({
      id,
      initialState: options.initialState ?? { on: true, brightness: 40, colorTemp: 2700, reachable: true },
      queue: { retries: options.retries ?? 0, timeoutMs: 2000 },
    })
    await bulb.start()
    bulbs.set(id, bulb)
  }
  const known = new Set(ids)
  const definitions = Object.entries(automations).map(([file, text]) => parseAutomationFile(file, known, text))
  const locks = genLock({}, protocol)
  const bus = new LocalBus()
  const { logger, lines, logged } = capturingLogger()
  const engine = new AutomationEngine({
    locks,
    devices: bulbs as ReadonlyMap<string, Bulb>,
    bus,
    baseTopic: 'genlock',
    logger,
    lockBackend: protocol.backend,
    ...(options.restoreTimeoutMs === undefined ? {} : { restoreTimeoutMs: options.restoreTimeoutMs }),
    ...(options.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: options.maxPayloadBytes }),
    ...options.time,
  })
  engine.load(definitions)
  engine.start()
  return {
    engine,
    bus,
    bulbs,
    locks,
    lines,
    logged: (text) => logged((line) => String(line.msg).includes(text)),
    bulb: (id = ids[0]!) => bulbs.get(id)!,
    status: (name, state) => waitForStatus(engine, name, state),
    close: async () => {
      await engine.stop()
      for (const bulb of bulbs.values()) await bulb.stop()
    },
  }
}

/** Resolves on the status event that puts `name` in `state` (at once if it is there now). */
export function waitForStatus(
  engine: AutomationEngine,
  name: string,
  state: AutomationStatus['state'],
): Promise<AutomationStatus> {
  const now = engine.status().find((status) => status.name === name)
  if (now?.state === state) return Promise.resolve(now)
  return new Promise((resolve) => {
    const off = engine.on('status', (status) => {
      if (status.name !== name || status.state !== state) return
      off()
      resolve(status)
    })
  })
}

/** `color` of a SimBulb log entry's command as written in YAML (the names the tests use). */
export function colorOf(entry: { command: { color?: unknown } }): unknown {
  return entry.command.color
}

/** Resolves once nothing holds or waits for any lock (re-checked on every lock event). */
export function locksIdle(protocol: MemoryProtocol): Promise<void> {
  if (protocol.idle) return Promise.resolve()
  return new Promise((resolve) => {
    const off = protocol.on(() => {
      if (!protocol.idle) return
      off()
      resolve()
    })
  })
}

import { formatProblem, type ConfigProblem } from '../../../config/problems.js'
import { healthDiscovery } from '../../../homeassistant/discovery.js'
import type { DaemonContext, Extension } from '../../extension.js'

/** One device in the health report. */
export interface DeviceHealth {
  readonly adapter: string
  readonly reachable: boolean
  /** Commands automations sent it, and how many of them failed (after the adapter's retries). */
  readonly commands: number
  readonly command_failures: number
  readonly last_error: string | null
}

/** What `<base>/health` holds (retained), in the spirit of Zigbee2MQTT's `bridge/health`. */
export interface DaemonHealth {
  readonly timestamp: string
  readonly uptime_s: number
  readonly memory: { readonly rss_bytes: number; readonly heap_used_bytes: number }
  readonly mqtt: { readonly reconnects: number; readonly received: number; readonly published: number }
  readonly devices: Readonly<Record<string, DeviceHealth>>
  /** The ids of the devices that do not answer. */
  readonly unreachable: readonly string[]
  /** Every problem in devices/ and automations/ now; the last good version of each broken file stays in use. */
  readonly config_problems: readonly (ConfigProblem & { readonly text: string })[]
}

/** How often `<base>/health` is published when nothing changes. */
const DEFAULT_INTERVAL_MS = 60_000

interface Counts {
  commands: number
  failures: number
  lastError: string | null
}

/**
 * Publishes the daemon's health, retained on `<base>/health`: every minute (uptime and memory move on), and at
 * once when something a user acts on changes: a bulb's reachability or a failed command, the config problems
 * after a reload, a reconnect. With Home Assistant discovery on, it also announces two diagnostic sensors (config
 * problems, unreachable bulbs) that read it. `genlock health` prints it.
 */
export class Health implements Extension {
  readonly name = 'health'
  private context!: DaemonContext
  private readonly started = Date.now()
  private readonly counts = new Map<string, Counts>()
  private timer: NodeJS.Timeout | undefined
  /** The report last published, without what always moves (time, uptime, memory). */
  private lastStable: string | undefined
  private due = false
  private stopped = false

  constructor(private readonly intervalMs = DEFAULT_INTERVAL_MS) {}

  start(context: DaemonContext): void {
    this.context = context
    const { events } = context
    events.on(this, 'run', (event) => {
      if (event.type !== 'command') return
      const counts = this.countsOf(event.device)
      counts.commands++
      // A command that worked changes nothing worth a message (its count goes out with the next report).
      if (event.ok) return
      counts.failures++
      counts.lastError = event.error ?? 'failed'
      this.changed()
    })
    events.on(this, 'deviceEvent', (_id, event) => {
      if (event.type === 'availability') this.changed()
    })
    events.on(this, 'devicesChanged', () => this.changed())
    events.on(this, 'reloaded', () => this.changed())
    events.on(this, 'connection', ({ online }) => {
      if (online) this.changed()
    })
    events.on(this, 'republishRequested', () => {
      this.announce()
      this.publish(true)
    })
    this.timer = setInterval(() => this.publish(true), this.intervalMs).unref()
    this.announce()
    this.publish(true)
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.timer)
  }

  /** The health report as of now. */
  report(): DaemonHealth {
    const { devices, lastReload, bus } = this.context
    const memory = process.memoryUsage()
    const report: Record<string, DeviceHealth> = {}
    for (const [id, bulb] of devices) {
      const counts = this.counts.get(id)
      report[id] = {
        adapter: bulb.adapter,
        reachable: bulb.state.reachable,
        commands: counts?.commands ?? 0,
        command_failures: counts?.failures ?? 0,
        last_error: counts?.lastError ?? null,
      }
    }
    return {
      timestamp: new Date().toISOString(),
      uptime_s: Math.round((Date.now() - this.started) / 1000),
      memory: { rss_bytes: memory.rss, heap_used_bytes: memory.heapUsed },
      mqtt: { ...bus.traffic },
      devices: report,
      unreachable: Object.keys(report).filter((id) => !report[id]!.reachable),
      config_problems: lastReload.problems.map((problem) => ({ ...problem, text: formatProblem(problem) })),
    }
  }

  private countsOf(device: string): Counts {
    let counts = this.counts.get(device)
    if (!counts) {
      counts = { commands: 0, failures: 0, lastError: null }
      this.counts.set(device, counts)
    }
    return counts
  }

  /** Publishes at the end of this tick if what changed shows in the report (many events, one message). */
  private changed(): void {
    if (this.due) return
    this.due = true
    queueMicrotask(() => {
      this.due = false
      this.publish(false)
    })
  }

  private publish(always: boolean): void {
    if (this.stopped) return
    const report = this.report()
    // Message counts move with every message: they alone are no reason to publish.
    const stable = JSON.stringify({
      ...report,
      timestamp: 0,
      uptime_s: 0,
      memory: 0,
      mqtt: report.mqtt.reconnects,
      devices: Object.entries(report.devices).map(([id, device]) => [id, { ...device, commands: 0 }]),
    })
    if (!always && stable === this.lastStable) return
    this.lastStable = stable
    const { bus, config, logger } = this.context
    // QoS 0 like the state topics: the next report replaces a lost one.
    bus
      .publish(`${config.mqtt.baseTopic}/health`, JSON.stringify(report), { retain: true, qos: 0 })
      .catch((error: Error) => logger.warn({ err: error.message }, 'health publish failed'))
  }

  /** The diagnostic sensors in Home Assistant (retained, QoS 1 like every discovery config). */
  private announce(): void {
    const { bus, config, logger } = this.context
    if (!config.homeassistant.discovery) return
    const context = { baseTopic: config.mqtt.baseTopic, prefix: config.homeassistant.prefix }
    for (const message of healthDiscovery(context)) {
      bus
        .publish(message.topic, JSON.stringify(message.config), { retain: true, qos: 1 })
        .catch((error: Error) => logger.warn({ topic: message.topic, err: error.message }, 'health discovery failed'))
    }
  }
}

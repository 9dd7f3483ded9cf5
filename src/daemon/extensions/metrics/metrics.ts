import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { RunEvent } from '../../../automation/index.js'
import type { LockEvent } from '../../../lock/index.js'
import type { HttpRoute } from '../../../http/route.js'
import type { DaemonContext, Extension } from '../../extension.js'

/** Lock waits run from nothing (free bulb) to a whole alarm (minutes). */
const LOCK_WAIT_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800]
/** A bulb answers in ms on a LAN, in seconds when retried, and times out at a few seconds. */
const COMMAND_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * Prometheus metrics on `GET /metrics` (text format, prom-client): lock wait per bulb, preemptions by priority
 * pair, command latency per adapter, lock queue depth per bulb, runs by result, MQTT messages and reconnects, and
 * the process's own (memory, CPU, event loop lag). Off unless `http.metrics` is on: the daemon then starts this
 * extension and serves {@link Metrics.route} on its HTTP listener.
 *
 * Everything is counted from the daemon's events, so nothing is added to the trigger → command path; the MQTT
 * counters are read from the connection only when Prometheus scrapes.
 */
export class Metrics implements Extension {
  readonly name = 'metrics'
  readonly registry = new Registry()
  /** When each waiting request (lockerGuid, per bulb) began to wait, ms (performance.now()). */
  private readonly waitingSince = new Map<string, Map<string, number>>()
  private context!: DaemonContext

  private readonly lockWait = new Histogram({
    name: 'genlock_lock_wait_seconds',
    help: "Time from asking for a bulb's lock to getting it (0 when it was free), per bulb",
    labelNames: ['device'] as const,
    buckets: LOCK_WAIT_BUCKETS,
    registers: [this.registry],
  })
  private readonly preemptions = new Counter({
    name: 'genlock_preemptions_total',
    help: "Bulb locks taken by a higher priority, by the loser's and the winner's priority",
    labelNames: ['priority', 'by_priority'] as const,
    registers: [this.registry],
  })
  private readonly commandLatency = new Histogram({
    name: 'genlock_command_duration_seconds',
    help: "Time from an automation's command to the bulb's answer (retries included), per adapter and result",
    labelNames: ['adapter', 'result'] as const,
    buckets: COMMAND_BUCKETS,
    registers: [this.registry],
  })
  private readonly queueDepth = new Gauge({
    name: 'genlock_lock_queue_depth',
    help: "Holders waiting for a bulb's lock right now, per bulb",
    labelNames: ['device'] as const,
    registers: [this.registry],
  })
  private readonly runs = new Counter({
    name: 'genlock_runs_total',
    help: 'Automation runs that ended, by automation and result (completed, stopped, aborted, failed)',
    labelNames: ['automation', 'result'] as const,
    registers: [this.registry],
  })

  start(context: DaemonContext): void {
    this.context = context
    collectDefaultMetrics({ register: this.registry, prefix: 'genlock_' })
    const { events, bus } = context
    events.on(this, 'lock', (event) => this.onLock(event))
    events.on(this, 'run', (event) => this.onRun(event))
    for (const id of context.devices.keys()) this.queueDepth.set({ device: id }, 0)
    // The connection counts; a scrape turns the counts into counters.
    totalFrom(
      this.registry,
      'genlock_mqtt_messages_received_total',
      'MQTT messages received from the broker',
      () => bus.traffic.received,
    )
    totalFrom(
      this.registry,
      'genlock_mqtt_messages_published_total',
      'MQTT messages published to the broker',
      () => bus.traffic.published,
    )
    totalFrom(
      this.registry,
      'genlock_mqtt_reconnects_total',
      'Reconnects to the MQTT broker',
      () => bus.traffic.reconnects,
    )
  }

  stop(): void {
    this.waitingSince.clear()
  }

  /** `GET /metrics` for the daemon's HTTP listener. */
  route(): HttpRoute {
    return {
      method: 'GET',
      path: '/metrics',
      handle: async (_request, response) => {
        try {
          const text = await this.registry.metrics()
          response.writeHead(200, { 'content-type': this.registry.contentType })
          response.end(text)
        } catch (error) {
          this.context.logger.warn({ err: (error as Error).message }, 'metrics could not be collected')
          response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          response.end('metrics could not be collected\n')
        }
      },
    }
  }

  private onLock(event: LockEvent): void {
    const { resource: device, lockerGuid } = event
    const waiting = this.waitingOn(device)
    switch (event.type) {
      case 'waiting':
        if (!waiting.has(lockerGuid)) waiting.set(lockerGuid, performance.now())
        break
      case 'acquired': {
        const since = waiting.get(lockerGuid)
        waiting.delete(lockerGuid)
        this.lockWait.observe({ device }, since === undefined ? 0 : (performance.now() - since) / 1000)
        break
      }
      case 'gave-up':
        waiting.delete(lockerGuid)
        break
      case 'preempted':
        if (event.by) this.preemptions.inc({ priority: event.priority, by_priority: event.by.priority })
        break
    }
    this.queueDepth.set({ device }, waiting.size)
  }

  private onRun(event: RunEvent): void {
    if (event.type === 'command') {
      const adapter = this.context.devices.get(event.device)?.adapter ?? 'unknown'
      this.commandLatency.observe({ adapter, result: event.ok ? 'ok' : 'failed' }, event.ms / 1000)
    } else if (event.type === 'ended') {
      this.runs.inc({ automation: event.automation, result: event.outcome })
    }
  }

  private waitingOn(device: string): Map<string, number> {
    let waiting = this.waitingSince.get(device)
    if (!waiting) {
      waiting = new Map()
      this.waitingSince.set(device, waiting)
    }
    return waiting
  }
}

/** A counter that shows a running total kept elsewhere (it only ever grows), read at each scrape. */
function totalFrom(registry: Registry, name: string, help: string, read: () => number): void {
  let shown = 0
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const total = read()
      if (total > shown) this.inc(total - shown)
      shown = total
    },
  })
}

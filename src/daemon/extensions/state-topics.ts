import type { AutomationStatus } from '../../automation/index.js'
import type { DaemonContext, Extension } from '../extension.js'
import { isAutomationLocker } from '../holders.js'
import { perTick } from '../per-tick.js'

/**
 * QoS 0 for every retained state topic: the last value is what counts, and all of them are published again after
 * every reconnect, so a message lost with a dropped connection is replaced. QoS 1 would add nothing but a PUBACK
 * from the broker for each one, and on a mosquitto with its default configuration (Nagle's algorithm on, no
 * `set_tcp_nodelay`) the next message the broker sends us (the next trigger) then waits behind that PUBACK until
 * our delayed ACK frees it: ~40 ms on Linux.
 */
const STATE_QOS = 0

/**
 * The daemon's retained state topics: `<base>/device/<id>` (`{ id, name, adapter, state, holder }`) and
 * `<base>/automation/<name>` (`{ state, last_error }`). Each is published when it changes — a device's holder
 * included, the moment its lock changes hands — once per change, and all again after a reconnect or when
 * Home Assistant asks (its birth message). A removed device or automation has its topic cleared.
 */
export class StateTopics implements Extension {
  readonly name = 'state-topics'
  private context!: DaemonContext
  /** The last payload published per subtopic (`device/<id>`, `automation/<name>`). */
  private readonly published = new Map<string, string>()
  /** The last status per automation. */
  private readonly statuses = new Map<string, AutomationStatus>()
  /** A device's topic, published once per tick however many bulb and lock events changed it. */
  private readonly deviceChanged = perTick((ids: string[]) => ids.forEach((id) => this.publishDevice(id)))
  private stopping = false

  start(context: DaemonContext): void {
    this.context = context
    const { events } = context
    // At once, not per tick: a trigger's `running` then goes out in the same segment as, and ahead of, the run's
    // first bulb command. A client that reacts to it (bench/e2e's next alarm, a Home Assistant automation on the
    // state sensor) then reaches the broker before the light's answer to that command. Behind the answer, which
    // genlock has no reason to reply to, its message would wait for our delayed ACK on a mosquitto with Nagle
    // on (its default): ~40 ms, every time (measured: p50 0.8 -> 42 ms when this was published a tick later).
    events.on(this, 'automationStatus', (status) => this.publishAutomation(status))
    events.on(this, 'deviceEvent', (id) => this.deviceChanged(id))
    // A run's grant at once too, for the same reason: the new holder goes out in the segment that carries the run's
    // first command, not in a write of its own after it (one socket write per trigger fewer). A lease that ends
    // waits for the tick, so a lock changing hands (lost, then granted, in one turn) never shows as free; so does a
    // manual command's grant, whose hold (the `manualHold` event) comes later in the same turn.
    events.on(this, 'lock', (event) =>
      event.type === 'acquired' && isAutomationLocker(event.lockerGuid)
        ? this.publishDevice(event.resource)
        : this.deviceChanged(event.resource),
    )
    events.on(this, 'manualHold', (id) => this.deviceChanged(id))
    events.on(this, 'devicesChanged', ({ added, removed }) => {
      for (const id of removed) if (!context.devices.has(id)) this.publish(`device/${id}`, '')
      for (const id of added) this.deviceChanged(id)
    })
    events.on(this, 'reloaded', () => this.clearRemovedAutomations())
    events.on(this, 'republishRequested', () => this.republish())
    for (const status of context.engine.status()) this.publishAutomation(status)
    for (const id of context.devices.keys()) this.publishDevice(id)
  }

  /** Says every automation is idle (nothing runs once the daemon stops), before the daemon goes offline. */
  stop(): void {
    for (const status of [...this.statuses.values()]) {
      if (status.state !== 'idle') this.publishAutomation({ ...status, state: 'idle' })
    }
    this.stopping = true
  }

  private publishAutomation(status: AutomationStatus): void {
    // A removed automation's topic was cleared; its last status from the engine must not bring it back.
    if (!this.context.automations.some((definition) => definition.name === status.name)) return
    this.statuses.set(status.name, status)
    const body = { state: status.state, last_error: status.lastError ?? null }
    this.publish(`automation/${status.name}`, JSON.stringify(body))
  }

  private publishDevice(id: string): void {
    const bulb = this.context.devices.get(id)
    if (!bulb) return
    const holder = this.context.holders.holderOf(id) ?? null
    const until = this.context.holders.manualHoldUntil(id)
    // While a person's change holds the bulb: when the hold ends, and how long that was from now.
    const hold =
      until === undefined
        ? {}
        : {
            hold: {
              until: new Date(until).toISOString(),
              remaining_s: Math.max(0, Math.round((until - Date.now()) / 1000)),
            },
          }
    const body = { id, name: bulb.name, adapter: bulb.adapter, state: bulb.state, holder, ...hold }
    this.publish(`device/${id}`, JSON.stringify(body))
  }

  private clearRemovedAutomations(): void {
    const names = new Set(this.context.automations.map((definition) => definition.name))
    for (const name of [...this.statuses.keys()]) {
      if (names.has(name)) continue
      this.statuses.delete(name)
      this.publish(`automation/${name}`, '')
    }
  }

  /** Publishes every automation's and device's state again, even where it did not change. */
  private republish(): void {
    this.published.clear()
    for (const status of this.context.engine.status()) this.publishAutomation(status)
    for (const id of this.context.devices.keys()) this.publishDevice(id)
  }

  private publish(subtopic: string, payload: string): void {
    const { bus, config, logger } = this.context
    if (this.stopping) return
    // Bulb events and lock events often describe the same state: publish each state once.
    if (this.published.get(subtopic) === payload) return
    if (payload === '') this.published.delete(subtopic)
    else this.published.set(subtopic, payload)
    // A clear goes at QoS 1: it happens on reloads only, and a lost one would leave a removed device's state
    // retained forever (a reconnect republishes what exists, not what went away).
    const qos = payload === '' ? 1 : STATE_QOS
    bus
      .publish(`${config.mqtt.baseTopic}/${subtopic}`, payload, { retain: true, qos })
      .catch((error: Error) => logger.warn({ topic: subtopic, err: error.message }, 'state publish failed'))
  }
}

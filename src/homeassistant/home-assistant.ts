import type { MessageBus } from '../bus/index.js'
import type { AutomationStatus } from '../automation/status.js'
import type { Bulb, BulbCommand } from '../devices/bulb.js'
import { automationDiscovery, bulbDiscovery, type DiscoveryMessage } from './discovery.js'
import { lightTopics } from './ids.js'
import { LightCommandError, lightStatePayload, parseLightCommand } from './light-state.js'
import type { ManualHoldView } from './manual-control.js'

/** What Home Assistant's side reads of the automation engine (`AutomationEngine` fits). */
export interface AutomationView {
  status(): readonly AutomationStatus[]
  on(event: 'status', listener: (status: AutomationStatus) => void): () => void
}

/** The slice of a pino logger the integration writes to. */
export interface HomeAssistantLogger {
  debug(fields: object, message?: string): void
  info(fields: object, message?: string): void
  warn(fields: object, message?: string): void
}

export interface HomeAssistantOptions {
  readonly bus: MessageBus
  /** genlock's `mqtt.base_topic`. */
  readonly baseTopic: string
  /** Home Assistant's discovery prefix; its birth message comes on `<prefix>/status`. */
  readonly prefix: string
  /**
   * Hands a light command from Home Assistant to manual control (which holds the bulb at the manual priority);
   * call {@link HomeAssistant.manualChanged} when what manual control shows of a bulb changes.
   */
  readonly manualCommand: (deviceId: string, command: BulbCommand) => void
  /** The bulbs by id, as currently configured (read, never changed). */
  readonly devices: ReadonlyMap<string, Bulb>
  readonly automations: AutomationView
  readonly logger: HomeAssistantLogger
  /** Asks for the daemon's own retained state topics again; called on Home Assistant's birth message. */
  readonly republishStates?: (() => void) | undefined
}

/**
 * Discovery configs (and their removals) go at QoS 1: they are published at start, on reloads and on HA's birth,
 * never on a trigger's path, and a removal lost with a dropped connection would leave a ghost entity in HA.
 */
const CONFIG_QOS = 1

/**
 * A light's state and attributes go at QoS 0, as Home Assistant's and Zigbee2MQTT's own state topics do: the last
 * value is what counts and all are published again after a reconnect. They follow every command, and at QoS 1 the
 * broker's PUBACK for each would, on a mosquitto with Nagle on (its default), hold the next trigger to us back
 * by our delayed ACK (~40 ms).
 */
const STATE_QOS = 0

interface TrackedBulb {
  readonly bulb: Bulb
  manual: ManualHoldView | undefined
  readonly unsubscribe: () => void
  lastState?: string
  lastAttributes?: string
}

/**
 * Makes genlock appear in Home Assistant over MQTT discovery, and lets HA's light controls take part in the
 * priorities: a light command goes to manual control (`manualCommand`), which holds the bulb for a person.
 *
 * Call {@link sync} after devices or automations change (hot reload): entities that went away are removed
 * (an empty retained config), new ones are announced. Call {@link republish} after a reconnect: a broker
 * restarted without persistence has lost every retained config.
 *
 * @example
 * const ha = new HomeAssistant({ bus, baseTopic: 'genlock', prefix: 'homeassistant',
 *   manualCommand: (id, command) => holds.change(id, command), devices, automations: engine, logger })
 * ha.start()
 * // after a reload: ha.sync(); after a reconnect: ha.republish()
 * await ha.stop()
 */
export class HomeAssistant {
  /** Discovery topic → the config payload last published there. */
  private readonly configs = new Map<string, string>()
  private readonly bulbs = new Map<string, TrackedBulb>()
  /** What manual control last showed per device (kept for bulbs HA does not track yet). */
  private readonly manualViews = new Map<string, ManualHoldView>()
  private readonly automationNames = new Set<string>()
  private readonly subscriptions: (() => void)[] = []
  private readonly inFlight = new Set<Promise<void>>()
  private started = false

  constructor(private readonly options: HomeAssistantOptions) {}

  /** Subscribes to HA's birth message and HA's light commands; publishes every entity. */
  start(): void {
    if (this.started) return
    this.started = true
    const { bus, baseTopic, prefix } = this.options
    this.subscriptions.push(
      bus.subscribe(`${prefix}/status`, (message) => {
        // A retained `online` is HA's old news, not a restart: what it asks for was published at start.
        if (message.retain || message.payload.toString().trim() !== 'online') return
        this.options.logger.info({ topic: message.topic }, 'Home Assistant came online; republishing discovery')
        this.republish()
        this.options.republishStates?.()
      }),
      bus.subscribe(`${baseTopic}/device/+/light/set`, (message) => {
        if (message.retain) {
          // A command is an action, not a state: a retained one would be carried out again at every start
          // (issue 13.12), as the engine already refuses for automation commands.
          this.options.logger.warn(
            { topic: message.topic },
            'retained command ignored (publish commands without retain)',
          )
          return
        }
        this.onLightCommand(message.topic, message.payload.toString())
      }),
      this.options.automations.on('status', (status) => {
        if (!this.automationNames.has(status.name)) this.sync()
      }),
    )
    this.sync()
  }

  /** Stops listening and drops waiting manual commands; entities stay in HA and go unavailable with the daemon. */
  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    for (const unsubscribe of this.subscriptions.splice(0)) unsubscribe()
    for (const tracked of this.bulbs.values()) tracked.unsubscribe()
    this.bulbs.clear()
    await this.flushed()
  }

  /** Resolves once every publish so far has been handed to the broker. */
  async flushed(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight])
  }

  /**
   * Brings Home Assistant in line with the current devices and automations: announces new entities, removes
   * the entities of removed ones, and follows replaced bulbs.
   */
  sync(): void {
    if (!this.started) return
    const context = { baseTopic: this.options.baseTopic, prefix: this.options.prefix }
    const wanted: DiscoveryMessage[] = []
    this.automationNames.clear()
    for (const status of this.options.automations.status()) {
      this.automationNames.add(status.name)
      wanted.push(...automationDiscovery(context, status.name))
    }
    for (const bulb of this.options.devices.values()) wanted.push(...bulbDiscovery(context, bulb))

    const wantedTopics = new Set(wanted.map((message) => message.topic))
    for (const topic of [...this.configs.keys()]) {
      if (wantedTopics.has(topic)) continue
      this.configs.delete(topic)
      this.publish(topic, '')
    }
    for (const message of wanted) {
      const payload = JSON.stringify(message.config)
      if (this.configs.get(message.topic) === payload) continue
      this.configs.set(message.topic, payload)
      this.publish(message.topic, payload)
    }
    this.followBulbs()
  }

  /**
   * Publishes every config and light state again: HA restarted and asks for them (its birth message), or the
   * broker may have lost them (we reconnected).
   */
  republish(): void {
    if (!this.started) return
    for (const [topic, payload] of this.configs) this.publish(topic, payload)
    for (const tracked of this.bulbs.values()) {
      tracked.lastState = undefined
      tracked.lastAttributes = undefined
      this.publishLightState(tracked)
      this.publishAttributes(tracked)
    }
  }

  private followBulbs(): void {
    const { devices, baseTopic } = this.options
    for (const [id, tracked] of [...this.bulbs]) {
      if (devices.get(id) === tracked.bulb) continue
      tracked.unsubscribe()
      this.bulbs.delete(id)
      if (!devices.has(id)) {
        const topics = lightTopics(baseTopic, id)
        this.publish(topics.state, '')
        this.publish(topics.attributes, '')
      }
    }
    for (const [id, bulb] of devices) {
      if (this.bulbs.has(id)) continue
      const tracked: TrackedBulb = {
        bulb,
        manual: this.manualViews.get(id),
        unsubscribe: bulb.subscribe(() => this.publishLightState(tracked)),
      }
      this.bulbs.set(id, tracked)
      this.publishLightState(tracked)
      this.publishAttributes(tracked)
    }
  }

  private publishLightState(tracked: TrackedBulb): void {
    const payload = JSON.stringify(lightStatePayload(tracked.bulb.state, tracked.bulb.capabilities))
    if (payload === tracked.lastState) return
    tracked.lastState = payload
    this.publish(lightTopics(this.options.baseTopic, tracked.bulb.id).state, payload, STATE_QOS)
  }

  /** What manual control of `deviceId` shows now: publishes the light's attributes (and the hold's end) again. */
  manualChanged(deviceId: string, view: ManualHoldView): void {
    this.manualViews.set(deviceId, view)
    const tracked = this.bulbs.get(deviceId)
    if (!tracked) return
    tracked.manual = view
    this.publishAttributes(tracked)
  }

  /**
   * The light's attributes: whether a change from HA waits for the lock, and which; and while a person's change
   * holds the bulb, when that hold ends (the "Held by" sensor shows them too).
   */
  private publishAttributes(tracked: TrackedBulb): void {
    if (!this.started) return
    const command = tracked.manual?.waitingCommand
    const until = tracked.manual?.until
    const payload = JSON.stringify({
      manual_pending: command !== undefined,
      manual_command: command ?? null,
      manual_hold_until: until === undefined ? null : new Date(until).toISOString(),
      manual_hold_remaining_s: until === undefined ? null : Math.max(0, Math.round((until - Date.now()) / 1000)),
    })
    if (payload === tracked.lastAttributes) return
    tracked.lastAttributes = payload
    this.publish(lightTopics(this.options.baseTopic, tracked.bulb.id).attributes, payload, STATE_QOS)
  }

  private onLightCommand(topic: string, payload: string): void {
    const prefix = `${this.options.baseTopic}/device/`
    const id = topic.slice(prefix.length, -'/light/set'.length)
    const tracked = this.bulbs.get(id)
    if (!tracked) {
      this.options.logger.warn({ topic }, `light command for unknown device '${id}' dropped`)
      return
    }
    try {
      const { command, ignored } = parseLightCommand(payload)
      if (ignored.length > 0)
        this.options.logger.warn({ topic, ignored }, `not supported, ignored: ${ignored.join(', ')}`)
      this.options.logger.info({ topic, device: id, command }, 'manual light command from Home Assistant')
      this.options.manualCommand(id, command)
    } catch (error) {
      if (!(error instanceof LightCommandError)) throw error
      this.options.logger.warn({ topic, err: error.message }, `light command dropped: ${error.message}`)
    }
  }

  private publish(topic: string, payload: string, qos: 0 | 1 = CONFIG_QOS): void {
    const sent = this.options.bus
      .publish(topic, payload, { retain: true, qos })
      .catch((error: Error) => this.options.logger.warn({ topic, err: error.message }, 'Home Assistant publish failed'))
      .finally(() => this.inFlight.delete(sent))
    this.inFlight.add(sent)
  }
}

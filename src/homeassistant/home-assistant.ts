import type { MessageBus } from '../bus/index.js'
import type { AutomationStatus } from '../automation/status.js'
import type { Bulb } from '../devices/bulb.js'
import type { LockerFactory } from '../lock/index.js'
import { automationDiscovery, bulbDiscovery, type DiscoveryMessage } from './discovery.js'
import { lightTopics } from './ids.js'
import { LightCommandError, lightStatePayload, parseLightCommand } from './light-state.js'
import { ManualControl } from './manual-control.js'

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
  /** Lock priority of light commands from Home Assistant. */
  readonly manualPriority: number
  /** The gen-lock factory the automations lock through, so manual commands compete with them. */
  readonly locks: LockerFactory
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
  readonly manual: ManualControl
  readonly unsubscribe: () => void
  lastState?: string
  lastAttributes?: string
}

/**
 * Makes genlock appear in Home Assistant over MQTT discovery, and lets HA's light controls take part in the
 * priorities: a light command is a manual transaction at `manualPriority`.
 *
 * Call {@link sync} after devices or automations change (hot reload): entities that went away are removed
 * (an empty retained config), new ones are announced. Call {@link republish} after a reconnect: a broker
 * restarted without persistence has lost every retained config.
 *
 * @example
 * const ha = new HomeAssistant({ bus, baseTopic: 'genlock', prefix: 'homeassistant', manualPriority: 100,
 *   locks, devices, automations: engine, logger })
 * ha.start()
 * // after a reload: ha.sync(); after a reconnect: ha.republish()
 * await ha.stop()
 */
export class HomeAssistant {
  /** Discovery topic → the config payload last published there. */
  private readonly configs = new Map<string, string>()
  private readonly bulbs = new Map<string, TrackedBulb>()
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
    for (const tracked of this.bulbs.values()) {
      tracked.unsubscribe()
      tracked.manual.close()
    }
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
    const { devices, locks, manualPriority, logger, baseTopic } = this.options
    for (const [id, tracked] of [...this.bulbs]) {
      if (devices.get(id) === tracked.bulb) continue
      tracked.unsubscribe()
      tracked.manual.close()
      this.bulbs.delete(id)
      if (!devices.has(id)) {
        const topics = lightTopics(baseTopic, id)
        this.publish(topics.state, '')
        this.publish(topics.attributes, '')
      }
    }
    for (const [id, bulb] of devices) {
      if (this.bulbs.has(id)) continue
      const manual = new ManualControl(locks, bulb, manualPriority, logger, () => this.publishAttributes(tracked))
      const tracked: TrackedBulb = { bulb, manual, unsubscribe: bulb.subscribe(() => this.publishLightState(tracked)) }
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

  /** The light's attributes: whether a change from HA waits for the lock, and which. */
  private publishAttributes(tracked: TrackedBulb): void {
    if (!this.started) return
    const command = tracked.manual.waitingCommand
    const payload = JSON.stringify({ manual_pending: command !== undefined, manual_command: command ?? null })
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
      tracked.manual.command(command)
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

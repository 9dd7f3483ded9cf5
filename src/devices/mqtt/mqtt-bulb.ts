import type { BulbCapabilities, BulbState } from '../bulb.js'
import { LinkDownError, type CommandFence, type CommandSignal } from '../command-queue.js'
import { DeviceUnreachableError, TransientDeviceError } from '../errors.js'
import { QueuedBulb, type QueuedBulbOptions, type SendContext } from '../queued-bulb.js'
import { echoWithin } from '../reported-state.js'
import type { ResolvedCommand } from '../resolve-command.js'
import { parseJsonObject, type MqttLightProtocol, type OutgoingMessage } from './light-protocol.js'
import type { MqttLink } from './mqtt-link.js'

export interface MqttBulbOptions extends QueuedBulbOptions {
  readonly id: string
  readonly name?: string
  readonly capabilities: BulbCapabilities
  readonly link: MqttLink
  readonly protocol: MqttLightProtocol
  /** Shown in errors: the light's topic. */
  readonly topic: string
  /**
   * Wait for the light to publish its new state before a command counts as done (default true). Without it, a
   * command is done once published, and the state is what we asked for.
   */
  readonly confirm?: boolean
  /**
   * Adds the fencing token a command was issued under to each JSON command payload, under this key, for a light (or
   * a recorder) that checks tokens itself: it can then drop a command older than one it already applied. Off by
   * default: Zigbee2MQTT would log every unknown key.
   */
  readonly tokenField?: string
}

/**
 * A light reached over MQTT (Zigbee2MQTT or Tasmota, through an {@link MqttLightProtocol}). It follows the light's
 * state and availability topics; a command is published and, with `confirm`, done when the light reports back —
 * so a light that never answers times out in the command queue like any other bulb. A light reported offline
 * fails commands at once with DeviceUnreachableError.
 *
 * While the broker is away the light is not failing: a command waits in the queue for the connection (bounded by its
 * lease and the queue's `linkWaitMs`), is checked against its lease once the broker is back, and only then published;
 * the MQTT client never keeps a light command to flush at reconnect.
 */
export class MqttBulb extends QueuedBulb {
  private readonly link: MqttLink
  private readonly protocol: MqttLightProtocol
  private readonly confirm: boolean
  private readonly tokenField: string | undefined
  private readonly unsubscribers: (() => void)[] = []
  private readonly stateWaiters = new Set<(state: BulbState) => void>()
  /** undefined until the availability topic says something. */
  private online: boolean | undefined

  constructor(options: MqttBulbOptions) {
    super(
      {
        id: options.id,
        name: options.name ?? options.id,
        adapter: 'mqtt',
        capabilities: options.capabilities,
        description: `${options.id} (mqtt ${options.topic})`,
      },
      { ...options, echo: options.echo ?? echoWithin(options.protocol.echo) },
    )
    this.link = options.link
    this.protocol = options.protocol
    this.confirm = options.confirm ?? true
    this.tokenField = options.tokenField
  }

  override async start(): Promise<void> {
    await super.start()
    if (this.unsubscribers.length > 0) return
    for (const topic of this.protocol.stateTopics) {
      this.unsubscribers.push(this.link.subscribe(topic, (message) => this.onState(message.topic, message.payload)))
    }
    const availability = this.protocol.availabilityTopic
    if (availability) {
      this.unsubscribers.push(
        this.link.subscribe(availability, (message) => this.onAvailability(message.topic, message.payload)),
      )
    }
  }

  override async stop(): Promise<void> {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe()
    await super.stop()
  }

  protected async send(command: ResolvedCommand, context: SendContext): Promise<BulbState> {
    const token = context.origin?.token
    const messages = this.protocol.encode(command)
    return this.exchange(
      this.tokenField === undefined || token === undefined ? messages : messages.map((m) => this.stamped(m, token)),
      context.signal,
      () => context.expected,
      context.fence,
    )
  }

  /** `message` with the fencing token added to its JSON object payload (other payloads are left alone). */
  private stamped(message: OutgoingMessage, token: number): OutgoingMessage {
    const body = parseJsonObject(Buffer.from(message.payload))
    return body ? { ...message, payload: JSON.stringify({ ...body, [this.tokenField!]: token }) } : message
  }

  protected async fetchState(signal: CommandSignal): Promise<BulbState> {
    // Without confirm the light's answer comes in later as a pushed state; until then the best answer is what is known.
    return this.exchange(this.protocol.statusRequest(), signal, () => this.state, undefined)
  }

  /** Publishes `messages`; with `confirm`, resolves with the next state the light reports, else with `expected()`. */
  private async exchange(
    messages: OutgoingMessage[],
    signal: CommandSignal,
    expected: () => BulbState,
    fence: CommandFence | undefined,
  ): Promise<BulbState> {
    if (this.brokerAway) throw this.linkDown()
    if (this.online === false) throw new DeviceUnreachableError(this.description, 'its availability topic says offline')
    // The queue checked the lease as this attempt started; this is the moment the command really leaves.
    if (fence && !fence.current) throw fence.refusal()
    const answer = this.confirm ? this.nextState(signal) : undefined
    try {
      // QoS 0, as Home Assistant and Zigbee2MQTT send light commands: `confirm` (the light's state report) is
      // what tells a command arrived, and the queue retries one that did not. At QoS 1 each command would also
      // wait for the broker's PUBACK, and on a mosquitto with Nagle on (its default) the next message to us (the
      // light's answer, the next trigger) would wait ~40 ms behind that PUBACK for our delayed ACK.
      // Never kept by the MQTT client while the broker is away: it would flush it at reconnect, lease or not.
      for (const message of messages) {
        await this.link.publish(message.topic, message.payload, { qos: 0, queueWhileOffline: false })
      }
    } catch (error) {
      answer?.cancel()
      if (this.brokerAway) throw this.linkDown()
      throw new TransientDeviceError(this.description, `cannot publish: ${(error as Error).message}`, { cause: error })
    }
    return answer ? answer.promise : expected()
  }

  private get brokerAway(): boolean {
    return this.link.connected === false
  }

  /** The broker is away: the queue waits for it to come back (see LinkDownError) rather than failing the command. */
  private linkDown(): Error {
    const onReconnect = this.link.onReconnect?.bind(this.link)
    if (!onReconnect)
      return new TransientDeviceError(this.description, 'cannot publish: the MQTT broker is not connected')
    this.logger.info({ device: this.id }, `${this.description}: the MQTT broker is away; the command waits for it`)
    const back = new Promise<void>((resolve) => {
      const off = onReconnect(() => {
        off()
        resolve()
      })
    })
    return new LinkDownError(this.description, 'the MQTT broker is not connected', back)
  }

  private nextState(signal: CommandSignal): { promise: Promise<BulbState>; cancel: () => void } {
    let waiter: (state: BulbState) => void = () => {}
    const promise = new Promise<BulbState>((resolve, reject) => {
      waiter = (state) => {
        this.stateWaiters.delete(waiter)
        resolve(state)
      }
      this.stateWaiters.add(waiter)
      signal.onAbort(() => {
        this.stateWaiters.delete(waiter)
        reject(signal.reason)
      })
    })
    promise.catch(() => {}) // the queue owns the outcome; this only avoids an unhandled rejection after cancel
    return { promise, cancel: () => this.stateWaiters.delete(waiter) }
  }

  private onState(topic: string, payload: Buffer): void {
    const decoded = this.protocol.decodeState(topic, payload, this.state)
    if (!decoded) {
      this.logger.warn(
        { device: this.id, topic, payload: payload.toString('utf8').slice(0, 200) },
        'unreadable light state ignored',
      )
      return
    }
    const state = this.online === false ? { ...decoded, reachable: false } : decoded
    if (this.stateWaiters.size > 0) {
      // The answer to the command (or status request) in flight: the queue reports it as that command's result, so
      // a light that applies a command its own way (clamping a colour temperature) is never an outside change.
      for (const waiter of [...this.stateWaiters]) waiter(state)
      return
    }
    this.reportObserved(state)
  }

  private onAvailability(topic: string, payload: Buffer): void {
    const online = this.protocol.decodeAvailability(payload)
    if (online === undefined) {
      this.logger.warn(
        { device: this.id, topic, payload: payload.toString('utf8').slice(0, 200) },
        'unreadable availability ignored',
      )
      return
    }
    this.online = online
    if (online) this.report({ ...this.state, reachable: true })
    else this.markReachable(false, new DeviceUnreachableError(this.description, 'its availability topic says offline'))
  }
}

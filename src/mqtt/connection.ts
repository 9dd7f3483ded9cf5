import { connect, type IClientOptions, type MqttClient } from 'mqtt'
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  filterProblem,
  publishTopicProblem,
  topicMatches,
  type BusMessage,
  type MessageBus,
  type PublishOptions,
} from '../bus/index.js'
import { redactUrl, silentLogger, type MqttLogger } from './logger.js'

export interface MqttConnectionOptions {
  /** `mqtt://host:port` or `mqtts://host:port`. May carry credentials; they are redacted in logs. */
  readonly url: string
  /** Stable across restarts: with `clean: false` the broker keeps our subscriptions and QoS 1 messages. */
  readonly clientId: string
  /** `<baseTopic>/status` carries `online`, and `offline` as the last will. */
  readonly baseTopic: string
  readonly username?: string | undefined
  readonly password?: string | undefined
  /** PEM text for mqtts:// (CA to trust, and a client certificate with its key). */
  readonly ca?: string | Buffer | undefined
  readonly cert?: string | Buffer | undefined
  readonly key?: string | Buffer | undefined
  readonly maxPayloadBytes?: number | undefined
  /** First reconnect delay in ms; doubles after each failed attempt up to `maxReconnectDelay`. */
  readonly reconnectDelay?: number | undefined
  readonly maxReconnectDelay?: number | undefined
  readonly logger?: MqttLogger | undefined
  /**
   * Keep messages that arrive before anyone subscribed to them, until {@link MqttConnection.release}. With a
   * persistent session the broker hands over what was queued for us (triggers sent while the daemon restarted)
   * right after connecting, before the automations have subscribed; without this they would be dropped.
   */
  readonly holdUnhandled?: boolean | undefined
}

/** Most messages kept for {@link MqttConnectionOptions.holdUnhandled}; beyond that the oldest are dropped. */
const MAX_HELD_MESSAGES = 1000

type Handler = (message: BusMessage) => void

/**
 * The daemon's one connection to the MQTT broker, as a MessageBus: QoS 1 subscriptions on a persistent session
 * (so a trigger sent while the broker restarts is delivered once it is back), reconnects with exponential backoff,
 * retained `<base>/status` online/offline with `offline` as the last will.
 *
 * @example
 * const bus = await MqttConnection.open({ url: 'mqtt://127.0.0.1:1883', clientId: 'genlock', baseTopic: 'genlock' })
 * bus.subscribe('home/+/alarm', (m) => console.log(m.topic, m.payload.toString()))
 */
export class MqttConnection implements MessageBus {
  private readonly handlers = new Map<string, Set<Handler>>()
  private readonly logger: MqttLogger
  private readonly maxPayloadBytes: number
  private readonly statusTopic: string
  private readonly pendingSubscriptions = new Set<Promise<void>>()
  private readonly reconnectListeners = new Set<(sessionPresent: boolean) => void>()
  private held: BusMessage[] | undefined
  /** Set by {@link MqttConnection.beginClose}: unsubscribing no longer reaches the broker. */
  private keepSession = false
  private closed = false

  private constructor(
    private readonly client: MqttClient,
    private readonly options: MqttConnectionOptions,
  ) {
    this.logger = options.logger ?? silentLogger
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES
    this.statusTopic = `${options.baseTopic}/status`
    if (options.holdUnhandled) this.held = []
    client.on('message', (topic, payload, packet) => this.dispatch({ topic, payload, retain: packet.retain }))
  }

  /** Connects and resolves once the broker has accepted us; keeps retrying (with backoff) until then. */
  static async open(options: MqttConnectionOptions): Promise<MqttConnection> {
    const statusProblem = publishTopicProblem(`${options.baseTopic}/status`)
    if (statusProblem) throw new Error(`mqtt base_topic: ${statusProblem}`)
    const first = options.reconnectDelay ?? 250
    const max = options.maxReconnectDelay ?? 30_000
    const clientOptions: IClientOptions = {
      clientId: options.clientId,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: first,
      connectTimeout: 10_000,
      resubscribe: true,
      username: options.username,
      password: options.password,
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      will: { topic: `${options.baseTopic}/status`, payload: Buffer.from('offline'), qos: 1, retain: true },
    }
    const client = connect(options.url, clientOptions)
    const connection = new MqttConnection(client, options)
    connection.watch(first, max)
    await new Promise<void>((resolve, reject) => {
      const refused = (error: Error & { code?: number }) => {
        // CONNACK 4/5: retrying with the same credentials cannot help, so fail now with a message that says why.
        if (error.code !== 4 && error.code !== 5) return
        client.off('error', refused)
        void client.endAsync(true)
        const who = options.username ? `user '${options.username}'` : 'an anonymous client'
        reject(new Error(`MQTT broker ${redactUrl(options.url)} refused ${who}: ${error.message}`))
      }
      client.on('error', refused)
      client.once('connect', () => {
        client.off('error', refused)
        resolve()
      })
    })
    return connection
  }

  /**
   * Calls `listener` after every reconnect (not the first connect). `sessionPresent` false means the broker
   * forgot us (restarted without persistence, say): our retained topics may be gone too.
   */
  onReconnect(listener: (sessionPresent: boolean) => void): () => void {
    this.reconnectListeners.add(listener)
    return () => this.reconnectListeners.delete(listener)
  }

  /** Whether the broker connection is up right now. */
  get connected(): boolean {
    return this.client.connected
  }

  subscribe(pattern: string, handler: Handler): () => void {
    const problem = filterProblem(pattern)
    if (problem) throw new Error(problem)
    let set = this.handlers.get(pattern)
    if (!set) {
      set = new Set()
      this.handlers.set(pattern, set)
      let resolve!: () => void
      const acked = new Promise<void>((done) => (resolve = done))
      this.pendingSubscriptions.add(acked)
      // mqtt.js may call back synchronously (when it is disconnecting), so `acked` must exist before.
      this.client.subscribe(pattern, { qos: 1 }, (error) => {
        if (error) this.logger.error({ topic: pattern, err: error.message }, 'mqtt subscribe failed')
        this.pendingSubscriptions.delete(acked)
        resolve()
      })
    }
    set.add(handler)
    return () => {
      const current = this.handlers.get(pattern)
      if (!current?.delete(handler) || current.size > 0) return
      this.handlers.delete(pattern)
      if (!this.closing) this.client.unsubscribe(pattern)
    }
  }

  /**
   * Delivers the messages kept since connecting (see `holdUnhandled`) to whoever subscribes to them now, and
   * stops keeping. Messages nobody subscribed to are dropped.
   */
  release(): void {
    const held = this.held
    this.held = undefined
    if (!held || held.length === 0) return
    this.logger.info({ messages: held.length }, 'mqtt delivering messages queued for us while we were away')
    for (const message of held) this.dispatch(message)
  }

  /**
   * Resolves once the broker has acknowledged every subscription asked for so far: until then a message on a
   * new subscription's topic may not reach us. The daemon waits for this before it reports ready.
   */
  async settled(): Promise<void> {
    while (this.pendingSubscriptions.size > 0) await Promise.all([...this.pendingSubscriptions])
  }

  async publish(topic: string, payload: string | Buffer, options: PublishOptions = {}): Promise<void> {
    const problem = publishTopicProblem(topic)
    if (problem) throw new Error(problem)
    await this.client.publishAsync(topic, payload, { qos: options.qos ?? 0, retain: options.retain ?? false })
  }

  /**
   * Call before shutting down what subscribed: from now on unsubscribing is local only, so the broker keeps every
   * subscription in our persistent session and queues what arrives until we are back.
   */
  beginClose(): void {
    this.keepSession = true
  }

  private get closing(): boolean {
    return this.keepSession || this.closed
  }

  /** Publishes `offline` (retained) and disconnects, leaving the persistent session at the broker. */
  async close(): Promise<void> {
    if (this.closed) return
    this.keepSession = true
    this.closed = true
    if (this.client.connected) {
      await Promise.race([
        this.client.publishAsync(this.statusTopic, 'offline', { qos: 1, retain: true }),
        new Promise((resolve) => setTimeout(resolve, 1000).unref()),
      ]).catch(() => undefined)
    }
    await this.client.endAsync(!this.client.connected)
  }

  private watch(firstDelay: number, maxDelay: number): void {
    const url = redactUrl(this.options.url)
    let failures = 0
    let connects = 0
    this.client.on('connect', (connack) => {
      failures = 0
      // A trigger is one small packet: without this, Nagle's algorithm can hold our PUBACKs and state
      // publishes back for tens of ms behind an unacknowledged segment.
      ;(this.client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true)
      this.client.options.reconnectPeriod = firstDelay
      this.logger.info(
        { url, clientId: this.options.clientId, sessionPresent: connack.sessionPresent },
        'mqtt connected',
      )
      this.client.publish(this.statusTopic, 'online', { qos: 1, retain: true })
      if (connects++ === 0) return
      for (const listener of [...this.reconnectListeners]) {
        try {
          listener(connack.sessionPresent)
        } catch (error) {
          this.logger.error({ err: (error as Error).message }, 'mqtt reconnect listener failed')
        }
      }
    })
    this.client.on('close', () => {
      if (this.closed) return
      // Double the wait after each failed attempt; mqtt.js reads reconnectPeriod afresh for every retry.
      const retryInMs = Math.min(maxDelay, firstDelay * 2 ** Math.min(failures, 20))
      this.client.options.reconnectPeriod = retryInMs
      failures++
      this.logger.debug({ url, attempt: failures, retryInMs }, 'mqtt reconnect scheduled')
    })
    this.client.on('offline', () => {
      if (!this.closed) this.logger.warn({ url }, 'mqtt connection lost; reconnecting')
    })
    this.client.on('error', (error) => {
      // Closing, a QoS 1 message already on its way can arrive after we ended our side of the socket, and mqtt.js
      // acknowledges it there: 'write after end'. Nothing is lost (our persistent session gets it again), so it is
      // no ERROR.
      const afterEnd = this.closed && (error as NodeJS.ErrnoException).code === 'ERR_STREAM_WRITE_AFTER_END'
      this.logger[afterEnd ? 'debug' : 'error']({ url, err: error.message }, 'mqtt error')
    })
  }

  private dispatch(message: BusMessage): void {
    if (message.payload.length > this.maxPayloadBytes) {
      this.logger.warn(
        { topic: message.topic, bytes: message.payload.length, limit: this.maxPayloadBytes },
        'mqtt payload too large; dropped',
      )
      return
    }
    if (this.held && ![...this.handlers.keys()].some((pattern) => topicMatches(pattern, message.topic))) {
      if (this.held.push(message) > MAX_HELD_MESSAGES) this.held.shift()
      return
    }
    for (const [pattern, handlers] of this.handlers) {
      if (!topicMatches(pattern, message.topic)) continue
      for (const handler of handlers) {
        try {
          handler(message)
        } catch (error) {
          this.logger.error({ topic: message.topic, err: (error as Error).message }, 'mqtt message handler failed')
        }
      }
    }
  }
}

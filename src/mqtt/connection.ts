import type { IClientOptions, MqttClient } from 'mqtt'
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  filterProblem,
  isWildcard,
  publishTopicProblem,
  topicMatches,
  type BusMessage,
  type MessageBus,
  type PublishOptions,
} from '../bus/index.js'
import { openMqttClient } from './open-client.js'
import { redactUrl, silentLogger, type MqttLogger } from './logger.js'
// Before the first packet, for the client and the embedded broker alike (see the file).

export interface MqttConnectionOptions {
  /** `mqtt://host:port` or `mqtts://host:port`. May carry credentials; they are redacted in logs. */
  readonly url: string
  /** Stable across restarts: with a persistent session the broker keeps our subscriptions and QoS 1 messages. */
  readonly clientId: string
  /** `<baseTopic>/status` carries `online` (see {@link MqttConnection.announceOnline}), and `offline` as the last will. */
  readonly baseTopic: string
  /**
   * A guest on a broker a real daemon uses (`genlock simulate` on the configured broker): a clean session, and no
   * `<baseTopic>/status` of its own (no will either), so it never speaks for the daemon. Default false.
   */
  readonly guest?: boolean | undefined
  /**
   * Fail the first connect after this many ms (or at its first error) with a {@link BrokerUnreachableError},
   * instead of retrying until the broker answers. Default: retry forever (a daemon waits for its broker).
   */
  readonly firstConnectTimeoutMs?: number | undefined
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

/**
 * Every subscription is QoS 1: it is what makes the broker queue a trigger (or a command) published while genlock
 * is down or reconnecting, on our persistent session, and deliver it when we are back, as the README promises.
 * A publisher's QoS 0 message still arrives at QoS 0: the subscription only caps it.
 */
const SUBSCRIPTION_QOS = 1

/**
 * mqtt.js's own debug logging, kept only while `DEBUG` is set (`DEBUG=mqttjs* genlock run`). It logs through the
 * `debug` package, whose every call builds an array of its arguments before it finds nobody listening: about 20
 * calls per packet, the largest source of garbage on the trigger path (a heap profile of the e2e bench: 12% of
 * all bytes allocated), so more young-generation collections, each a pause of 0.5–3 ms for whatever trigger meets it.
 */
function quietUnlessDebugging(): Pick<IClientOptions, 'log'> {
  return process.env.DEBUG ? {} : { log: () => {} }
}

/** A publish with `queueWhileOffline: false` while the broker connection is down. */
export class BrokerOfflineError extends Error {
  override readonly name = 'BrokerOfflineError'
}

/** The first connect failed (`firstConnectTimeoutMs`): the broker cannot be reached, or refused us. */
export class BrokerUnreachableError extends Error {
  override readonly name = 'BrokerUnreachableError'
}

type Handler = (message: BusMessage) => void

/**
 * The daemon's one connection to the MQTT broker, as a MessageBus: QoS 1 subscriptions on a persistent session
 * (so a trigger sent while the broker restarts is delivered once it is back), reconnects with exponential backoff,
 * retained `<base>/status` with `offline` as the last will and `online` only once the daemon is ready (see
 * {@link MqttConnection.announceOnline}).
 *
 * @example
 * const bus = await MqttConnection.open({ url: 'mqtt://127.0.0.1:1883', clientId: 'genlock', baseTopic: 'genlock' })
 * bus.subscribe('home/+/alarm', (m) => console.log(m.topic, m.payload.toString()))
 */
export class MqttConnection implements MessageBus {
  /** Messages received from the broker and published to it, and reconnects, since the connection was opened. */
  readonly traffic = { received: 0, published: 0, reconnects: 0 }
  private readonly handlers = new Map<string, Set<Handler>>()
  /** The patterns in `handlers` with a wildcard: the only ones a message's topic must be matched against. */
  private readonly wildcardPatterns = new Set<string>()
  private readonly logger: MqttLogger
  private readonly maxPayloadBytes: number
  private readonly statusTopic: string
  private readonly pendingSubscriptions = new Set<Promise<void>>()
  private readonly reconnectListeners = new Set<(sessionPresent: boolean) => void>()
  private readonly onlineListeners = new Set<(online: boolean) => void>()
  /** Patterns nobody wants any more, still subscribed at the broker until {@link flushUnsubscribes}. */
  private readonly unwanted = new Set<string>()
  /**
   * Patterns whose SUBSCRIBE went down with a connection before the broker acknowledged it: subscribed again on the
   * next connect, even one where the broker kept our session (it may never have read the SUBSCRIBE).
   */
  private readonly unacknowledged = new Set<string>()
  private unsubscribeHolds = 0
  private unsubscribeFlush: NodeJS.Immediate | undefined
  private held: BusMessage[] | undefined
  /** Set by {@link MqttConnection.announceOnline}: from then on every (re)connect ends with `online`, once ready. */
  private ready = false
  private online = false
  /** Counts connects, so work for one connection that outlives it (a drop while resubscribing) is dropped. */
  private connection = 0
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
    client.on('message', (topic, payload, packet) => {
      this.traffic.received++
      this.dispatch({ topic, payload, retain: packet.retain })
    })
  }

  /** Connects and resolves once the broker has accepted us; keeps retrying (with backoff) until then. */
  static async open(options: MqttConnectionOptions): Promise<MqttConnection> {
    const statusProblem = publishTopicProblem(`${options.baseTopic}/status`)
    if (statusProblem) throw new Error(`mqtt base_topic: ${statusProblem}`)
    const first = options.reconnectDelay ?? 250
    const max = options.maxReconnectDelay ?? 30_000
    const clientOptions: IClientOptions = {
      clientId: options.clientId,
      clean: options.guest === true,
      protocolVersion: 4,
      reconnectPeriod: first,
      connectTimeout: options.firstConnectTimeoutMs ?? 10_000,
      // We resubscribe ourselves, so we know when the broker has acknowledged it all (see announceOnline).
      resubscribe: false,
      ...quietUnlessDebugging(),
      username: options.username,
      password: options.password,
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      ...(options.guest
        ? {}
        : { will: { topic: `${options.baseTopic}/status`, payload: Buffer.from('offline'), qos: 1, retain: true } }),
    }
    const client = openMqttClient(options.url, clientOptions)
    const connection = new MqttConnection(client, options)
    connection.watch(first, max)
    await new Promise<void>((resolve, reject) => {
      const url = redactUrl(options.url)
      let failed = false
      const fail = (error: Error) => {
        if (failed) return
        failed = true
        client.off('error', refused)
        client.off('close', closed)
        clearTimeout(timer)
        void client.endAsync(true)
        reject(error)
      }
      const refused = (error: Error & { code?: number }) => {
        // CONNACK 4/5: retrying with the same credentials cannot help, so fail now with a message that says why.
        if (error.code === 4 || error.code === 5) {
          const who = options.username ? `user '${options.username}'` : 'an anonymous client'
          fail(new Error(`MQTT broker ${url} refused ${who}: ${error.message}`))
        } else if (options.firstConnectTimeoutMs !== undefined) {
          fail(new BrokerUnreachableError(`cannot reach the MQTT broker ${url}: ${describe(error)}`))
        }
      }
      const limit = options.firstConnectTimeoutMs
      const timer =
        limit === undefined
          ? undefined
          : setTimeout(
              () =>
                fail(new BrokerUnreachableError(`cannot reach the MQTT broker ${url}: no answer within ${limit} ms`)),
              limit,
            )
      const closed = () => {
        if (options.firstConnectTimeoutMs !== undefined)
          fail(new BrokerUnreachableError(`cannot reach the MQTT broker ${url}: connection closed`))
      }
      client.on('error', refused)
      client.on('close', closed)
      client.once('connect', () => {
        client.off('error', refused)
        client.off('close', closed)
        clearTimeout(timer)
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

  /**
   * Calls `listener` with true each time `<base>/status` goes `online` (see {@link announceOnline}), and with false
   * when the connection is lost after that. A guest (no status of its own) reports the same moments.
   */
  onOnlineChange(listener: (online: boolean) => void): () => void {
    this.onlineListeners.add(listener)
    return () => this.onlineListeners.delete(listener)
  }

  /** The broker's URL, any password in it redacted. */
  get url(): string {
    return redactUrl(this.options.url)
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
      if (isWildcard(pattern)) this.wildcardPatterns.add(pattern)
      // Still subscribed at the broker (unsubscribed a moment ago, in the same reload): keep that subscription
      // rather than send UNSUBSCRIBE and SUBSCRIBE back to back, which aedes can end with neither.
      if (!this.unwanted.delete(pattern)) this.brokerSubscribe(pattern)
    }
    set.add(handler)
    return () => {
      const current = this.handlers.get(pattern)
      if (!current?.delete(handler) || current.size > 0) return
      this.handlers.delete(pattern)
      this.wildcardPatterns.delete(pattern)
      if (this.closing) return
      this.unwanted.add(pattern)
      this.scheduleUnsubscribes()
    }
  }

  /**
   * Holds back the broker UNSUBSCRIBEs of patterns nobody wants any more until the returned function is called
   * (the daemon holds them for the length of a reload): a pattern wanted again by then is never unsubscribed.
   *
   * Why: aedes (the embedded broker) handles the packets of one TCP read concurrently, and its UNSUBSCRIBE removes
   * the subscription only after a persistence round trip; a SUBSCRIBE of the same topic right behind it finds
   * the old subscription still there, does nothing, and the UNSUBSCRIBE then removes it: the trigger is dead
   * (aedes issue #469). Mosquitto handles them in order, so only the embedded broker showed it.
   */
  holdUnsubscribes(): () => void {
    this.unsubscribeHolds++
    let released = false
    return () => {
      if (released) return
      released = true
      this.unsubscribeHolds--
      this.scheduleUnsubscribes()
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

  /**
   * Says the daemon is ready: once every subscription asked for so far is acknowledged, publishes `online`
   * (retained) at `<base>/status`, and does the same after every reconnect from now on, after resubscribing
   * everything when the broker lost our session. A client that publishes a trigger the moment it sees `online`
   * (Home Assistant does, on availability) therefore always finds our subscription in place.
   */
  async announceOnline(): Promise<void> {
    this.ready = true
    await this.goOnline(this.connection)
  }

  async publish(topic: string, payload: string | Buffer, options: PublishOptions = {}): Promise<void> {
    const problem = publishTopicProblem(topic)
    if (problem) throw new Error(problem)
    // mqtt.js keeps what is published while disconnected and flushes it at reconnect, however stale by then.
    if (options.queueWhileOffline === false && !this.client.connected) {
      throw new BrokerOfflineError(`not connected to the MQTT broker ${this.url}; '${topic}' not sent`)
    }
    this.traffic.published++
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
    clearImmediate(this.unsubscribeFlush)
    if (this.client.connected && !this.options.guest) {
      await Promise.race([
        this.client.publishAsync(this.statusTopic, 'offline', { qos: 1, retain: true }),
        new Promise((resolve) => setTimeout(resolve, 1000).unref()),
      ]).catch(() => undefined)
    }
    await this.client.endAsync(!this.client.connected)
  }

  private brokerSubscribe(pattern: string): void {
    let resolve!: () => void
    const acked = new Promise<void>((done) => (resolve = done))
    this.pendingSubscriptions.add(acked)
    // mqtt.js may call back synchronously (when it is disconnecting), so `acked` must exist before.
    this.client.subscribe(pattern, { qos: SUBSCRIPTION_QOS }, (error) => {
      if (error && !this.closing) {
        this.unacknowledged.add(pattern)
        this.logger.warn(
          { topic: pattern, err: error.message },
          'mqtt subscribe not acknowledged; retrying on reconnect',
        )
      }
      this.pendingSubscriptions.delete(acked)
      resolve()
    })
  }

  private scheduleUnsubscribes(): void {
    if (this.unsubscribeHolds > 0 || this.unsubscribeFlush || this.unwanted.size === 0) return
    // Not at once even without a hold: an unsubscribe and a subscribe of the same pattern in one turn of the
    // event loop (an automation replaced by its new version) cancel out here instead of reaching the broker.
    this.unsubscribeFlush = setImmediate(() => {
      this.unsubscribeFlush = undefined
      if (this.unsubscribeHolds > 0) return
      const patterns = [...this.unwanted]
      this.unwanted.clear()
      if (patterns.length > 0 && !this.closing) this.client.unsubscribe(patterns)
    })
  }

  private async goOnline(connection: number): Promise<void> {
    await this.settled()
    // The connection this was for dropped meanwhile: the next connect announces again.
    if (!this.ready || connection !== this.connection || !this.client.connected || this.closed) return
    if (!this.options.guest) {
      // QoS 0: it can only be lost with the connection, and every connect announces it again. At QoS 1 the
      // broker's PUBACK would, on a mosquitto with Nagle on (its default), hold back the very trigger Home
      // Assistant sends on seeing `online` by our delayed ACK (~40 ms).
      await this.client.publishAsync(this.statusTopic, 'online', { qos: 0, retain: true }).catch((error: Error) => {
        this.logger.warn({ err: error.message }, 'mqtt could not publish online')
      })
    }
    if (connection !== this.connection || this.online) return
    this.online = true
    this.logger.info({ topic: this.statusTopic }, 'mqtt online: every subscription in place')
    this.tellOnline(true)
  }

  private tellOnline(online: boolean): void {
    for (const listener of [...this.onlineListeners]) {
      try {
        listener(online)
      } catch (error) {
        this.logger.error({ err: (error as Error).message }, 'mqtt online listener failed')
      }
    }
  }

  private watch(firstDelay: number, maxDelay: number): void {
    const url = redactUrl(this.options.url)
    let failures = 0
    this.client.on('connect', (connack) => {
      failures = 0
      const connection = ++this.connection
      // A trigger is one small packet: without this, Nagle's algorithm can hold our PUBACKs and commands
      // back for tens of ms behind an unacknowledged segment.
      ;(this.client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true)
      this.client.options.reconnectPeriod = firstDelay
      this.logger.info(
        { url, clientId: this.options.clientId, sessionPresent: connack.sessionPresent },
        'mqtt connected',
      )
      if (connection === 1) return
      this.traffic.reconnects++
      const resubscribe = connack.sessionPresent
        ? [...this.unacknowledged].filter((pattern) => this.handlers.has(pattern))
        : // The broker forgot us (restarted without persistence, or a clean session): nothing we subscribed to
          // reaches us until we subscribe again.
          [...this.handlers.keys()]
      if (!connack.sessionPresent) this.unwanted.clear()
      this.unacknowledged.clear()
      for (const pattern of resubscribe) this.brokerSubscribe(pattern)
      for (const listener of [...this.reconnectListeners]) {
        try {
          listener(connack.sessionPresent)
        } catch (error) {
          this.logger.error({ err: (error as Error).message }, 'mqtt reconnect listener failed')
        }
      }
      void this.goOnline(connection)
    })
    this.client.on('close', () => {
      if (this.online) {
        this.online = false
        this.tellOnline(false)
      }
      if (this.closed) return
      // Double the wait after each failed attempt; mqtt.js reads reconnectPeriod afresh for every retry.
      const retryInMs = Math.min(maxDelay, firstDelay * 2 ** Math.min(failures, 20))
      this.client.options.reconnectPeriod = retryInMs
      failures++
      this.logger.debug({ url, attempt: failures, retryInMs }, 'mqtt reconnect scheduled')
    })
    this.client.on('offline', () => {
      if (this.closed || (this.connection === 0 && this.options.firstConnectTimeoutMs !== undefined)) return
      this.logger.warn({ url }, 'mqtt connection lost; reconnecting')
    })
    this.client.on('error', (error) => {
      // A first connect that must fail fast reports its error by rejecting, once, not as a log line too.
      if (this.connection === 0 && this.options.firstConnectTimeoutMs !== undefined) return
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
    // A topic never holds a wildcard, so the patterns without one are found by the topic itself; only the
    // wildcard patterns are matched one by one (every message goes through here).
    const exact = this.handlers.get(message.topic)
    const matching = [...this.wildcardPatterns].filter((pattern) => topicMatches(pattern, message.topic))
    if (this.held && !exact && matching.length === 0) {
      if (this.held.push(message) > MAX_HELD_MESSAGES) this.held.shift()
      return
    }
    if (exact) this.deliver(message, exact)
    for (const pattern of matching) {
      const handlers = this.handlers.get(pattern) // a handler above may have unsubscribed it
      if (handlers) this.deliver(message, handlers)
    }
  }

  private deliver(message: BusMessage, handlers: ReadonlySet<Handler>): void {
    for (const handler of handlers) {
      try {
        handler(message)
      } catch (error) {
        this.logger.error({ topic: message.topic, err: (error as Error).message }, 'mqtt message handler failed')
      }
    }
  }
}

function describe(error: Error & { code?: unknown }): string {
  return error.message || String(error.code ?? error)
}

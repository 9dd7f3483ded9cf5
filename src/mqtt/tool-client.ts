import { randomBytes } from 'node:crypto'
import type { IClientOptions, MqttClient } from 'mqtt'
import {
  filterProblem,
  publishTopicProblem,
  topicMatches,
  type BusMessage,
  type MessageBus,
  type PublishOptions,
} from '../bus/index.js'
import { openMqttClient } from './open-client.js'
import { redactUrl } from './logger.js'

export interface MqttToolClientOptions {
  /** `mqtt://host:port` or `mqtts://host:port`. */
  readonly url: string
  /** Default: `<prefix>_<random>`, so a tool never steals the daemon's session. */
  readonly clientId?: string
  readonly clientIdPrefix?: string
  readonly username?: string | undefined
  readonly password?: string | undefined
  readonly ca?: string | Buffer | undefined
  readonly cert?: string | Buffer | undefined
  readonly key?: string | Buffer | undefined
  /** How long the first connect may take before it fails, ms. Default 3000. */
  readonly connectTimeoutMs?: number
  /** Retained message the broker publishes if this client vanishes (a simulator's availability, say). */
  readonly will?: { readonly topic: string; readonly payload: string }
}

type Handler = (message: BusMessage) => void

/**
 * A plain MQTT client for command-line tools and simulators (`genlock trigger`, `status`, `sim mqtt`): a clean
 * session, no `<base>/status` of its own, and a first connect that fails fast with one clear message instead of
 * retrying forever as the daemon's {@link MqttConnection} does. After that it reconnects on its own.
 *
 * @example
 * const client = await MqttToolClient.connect({ url: 'mqtt://127.0.0.1:1883' })
 * await client.publish('genlock/automation/party/set', 'ON', { qos: 1 })
 * await client.close()
 */
export class MqttToolClient implements MessageBus {
  private readonly handlers = new Map<string, Set<Handler>>()
  private readonly reconnectListeners = new Set<() => void>()

  private constructor(private readonly client: MqttClient) {
    // Registered after the first connect, so every 'connect' from here on is a reconnect.
    client.on('connect', () => {
      for (const listener of [...this.reconnectListeners]) listener()
    })
    client.on('message', (topic, payload, packet) => {
      for (const [pattern, handlers] of this.handlers) {
        if (!topicMatches(pattern, topic)) continue
        for (const handler of handlers) handler({ topic, payload, retain: packet.retain })
      }
    })
  }

  /** Connects once; rejects with `cannot reach the MQTT broker <url>: <why>` if that fails or takes too long. */
  static connect(options: MqttToolClientOptions): Promise<MqttToolClient> {
    const timeout = options.connectTimeoutMs ?? 3000
    const clientOptions: IClientOptions = {
      clientId: options.clientId ?? `${options.clientIdPrefix ?? 'genlock_cli'}_${randomBytes(4).toString('hex')}`,
      clean: true,
      protocolVersion: 4,
      connectTimeout: timeout,
      reconnectPeriod: 0,
      username: options.username,
      password: options.password,
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      ...(options.will ? { will: { ...options.will, qos: 1, retain: true } } : {}),
    }
    const client = openMqttClient(options.url, clientOptions)
    return new Promise((resolve, reject) => {
      // Only our own listeners are removed again: MQTT.js listens for 'close' itself to schedule its reconnects, and
      // removing every 'close' listener (as this did) left a simulator dead after the first broker restart.
      const onError = (error: Error) => fail(error.message || String((error as { code?: unknown }).code))
      const onClose = () => fail('connection closed')
      const onConnect = () => {
        clearTimeout(timer)
        client.off('error', onError)
        client.off('close', onClose)
        // Simulators answer commands with state reports: without this, Nagle's algorithm holds an answer back
        // behind an unacknowledged segment until the peer's delayed ACK (~40 ms). Every reconnect has a new socket.
        const noDelay = () => (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true)
        noDelay()
        client.on('connect', noDelay)
        // Keep going after a blip once we were in: a long-running simulator should survive a broker restart.
        client.options.reconnectPeriod = 1000
        client.on('error', () => undefined)
        resolve(new MqttToolClient(client))
      }
      const fail = (why: string) => {
        clearTimeout(timer)
        client.off('connect', onConnect)
        void client.endAsync(true)
        reject(new Error(`cannot reach the MQTT broker ${redactUrl(options.url)}: ${why}`))
      }
      const timer = setTimeout(() => fail(`no answer within ${timeout} ms`), timeout)
      client.once('error', onError)
      client.once('close', onClose)
      client.once('connect', onConnect)
    })
  }

  /** Whether the connection is up now. */
  get connected(): boolean {
    return this.client.connected
  }

  /**
   * Calls `listener` after every reconnect (after MQTT.js has sent the renewed subscriptions), so a simulator can
   * publish again what a restarted broker forgot: its retained states and availability.
   */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener)
    return () => this.reconnectListeners.delete(listener)
  }

  subscribe(pattern: string, handler: Handler): () => void {
    const problem = filterProblem(pattern)
    if (problem) throw new Error(problem)
    let set = this.handlers.get(pattern)
    if (!set) {
      set = new Set()
      this.handlers.set(pattern, set)
      this.client.subscribe(pattern, { qos: 1 })
    }
    set.add(handler)
    return () => {
      const current = this.handlers.get(pattern)
      if (!current?.delete(handler) || current.size > 0) return
      this.handlers.delete(pattern)
      if (this.client.connected) this.client.unsubscribe(pattern)
    }
  }

  /**
   * Subscribes and resolves once the broker has acknowledged, so retained messages on `pattern` are on their way
   * (they arrive before any later message the broker sends us).
   */
  async subscribeAcked(pattern: string, handler: Handler): Promise<() => void> {
    const problem = filterProblem(pattern)
    if (problem) throw new Error(problem)
    const off = this.subscribe(pattern, handler)
    await this.client.subscribeAsync(pattern, { qos: 1 })
    return off
  }

  async publish(topic: string, payload: string | Buffer, options: PublishOptions = {}): Promise<void> {
    const problem = publishTopicProblem(topic)
    if (problem) throw new Error(problem)
    await this.client.publishAsync(topic, payload, { qos: options.qos ?? 0, retain: options.retain ?? false })
  }

  /**
   * Resolves once every message the broker sent before now has been handled: a QoS 1 round trip through a private
   * topic, which the broker delivers after the retained messages of earlier subscriptions.
   */
  async flush(): Promise<void> {
    const topic = `genlock-cli/flush/${randomBytes(6).toString('hex')}`
    await new Promise<void>((resolve, reject) => {
      const off = this.subscribe(topic, () => {
        off()
        resolve()
      })
      this.client
        .subscribeAsync(topic, { qos: 1 })
        .then(() => this.client.publishAsync(topic, 'flush', { qos: 1 }))
        .catch(reject)
    })
  }

  /** Disconnects (cleanly, so no will is published). */
  async close(): Promise<void> {
    await this.client.endAsync(!this.client.connected)
  }
}

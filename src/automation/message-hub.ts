import type { Logger } from 'pino'
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  incoming,
  type BusMessage,
  type IncomingMessage,
  type MessageBus,
  type PublishOptions,
} from '../bus/index.js'

export type { IncomingMessage } from '../bus/index.js'

/**
 * The most payload bytes remembered for `last[...]` in all (oldest forgotten first). Only topics an expression
 * names are remembered, so this is reached only by many large payloads on those; a wildcard trigger keeps nothing.
 */
export const MAX_REMEMBERED_BYTES = 4 * 1024 * 1024

/**
 * The engine's one door to the bus: one bus subscription per pattern however many automations listen to it,
 * the last payload of the topics expressions read (`last['topic']`, asked for with keepLast), oversized payloads
 * dropped, and a change signal that `wait_for` conditions re-check on. Messages on other topics pass through to
 * their listeners and are not kept (issue 13.3: a `zigbee2mqtt/+` trigger once kept 6,000 topics of 60 KiB).
 */
export class MessageHub {
  private readonly patterns = new Map<
    string,
    { unsubscribe: () => void; listeners: Set<(m: IncomingMessage) => void> }
  >()
  private readonly lastPayloads = new Map<string, IncomingMessage>()
  private readonly sizes = new Map<string, number>()
  private rememberedBytes = 0
  /** Topics whose last payload is kept, with how many automations asked. */
  private readonly kept = new Map<string, number>()
  private readonly changeListeners = new Set<() => void>()

  constructor(
    private readonly bus: MessageBus,
    private readonly logger: Logger,
    /** `mqtt.max_payload_bytes`: payloads larger than this are logged and dropped. */
    private readonly maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
  ) {}

  /** Calls `listener` for every message on `pattern` (MQTT wildcards allowed). Returns the unsubscribe function. */
  watch(pattern: string, listener: (message: IncomingMessage) => void): () => void {
    let entry = this.patterns.get(pattern)
    if (!entry) {
      const listeners = new Set<(m: IncomingMessage) => void>()
      const unsubscribe = this.bus.subscribe(pattern, (message) => this.receive(message, listeners))
      entry = { unsubscribe, listeners }
      this.patterns.set(pattern, entry)
    }
    const { listeners } = entry
    listeners.add(listener)
    return () => {
      listeners.delete(listener)
      if (listeners.size === 0 && this.patterns.get(pattern)?.listeners === listeners) {
        this.patterns.delete(pattern)
        entry.unsubscribe()
      }
    }
  }

  /**
   * Subscribes `topic` (an exact topic an expression reads) and keeps its last payload for `last()` while some
   * caller still wants it. Returns the function that lets it go.
   */
  keepLast(topic: string): () => void {
    this.kept.set(topic, (this.kept.get(topic) ?? 0) + 1)
    const unwatch = this.watch(topic, () => {})
    let released = false
    return () => {
      if (released) return
      released = true
      unwatch()
      const count = (this.kept.get(topic) ?? 1) - 1
      if (count > 0) {
        this.kept.set(topic, count)
        return
      }
      this.kept.delete(topic)
      this.forget(topic)
    }
  }

  /** The last message seen on a topic kept with keepLast (undefined for any other topic). */
  last(topic: string): IncomingMessage | undefined {
    return this.lastPayloads.get(topic)
  }

  /** Called after every accepted message and every device state change. Returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener)
    return () => this.changeListeners.delete(listener)
  }

  /** Tells change listeners that something an expression may read has changed. */
  changed(): void {
    for (const listener of [...this.changeListeners]) listener()
  }

  publish(topic: string, payload: string | Buffer, options?: PublishOptions): Promise<void> {
    return this.bus.publish(topic, payload, options)
  }

  private receive(message: BusMessage, listeners: ReadonlySet<(m: IncomingMessage) => void>): void {
    const size = message.payload.length
    if (size > this.maxPayloadBytes) {
      this.logger.warn(
        { topic: message.topic, bytes: size },
        `dropped a ${size}-byte payload (over ${this.maxPayloadBytes})`,
      )
      return
    }
    const decoded = incoming(message.topic, message.payload.toString('utf8'), message.retain === true)
    this.remember(decoded, size)
    for (const listener of [...listeners]) {
      try {
        listener(decoded)
      } catch (error) {
        // One automation's bug must not keep the message from the others, nor reach the MQTT client.
        this.logger.error({ err: error, topic: message.topic }, 'a message listener failed')
      }
    }
    this.changed()
  }

  private remember(message: IncomingMessage, bytes: number): void {
    if (!this.kept.has(message.topic)) return
    this.forget(message.topic)
    this.lastPayloads.set(message.topic, message)
    this.sizes.set(message.topic, bytes)
    this.rememberedBytes += bytes
    for (const oldest of this.lastPayloads.keys()) {
      if (this.rememberedBytes <= MAX_REMEMBERED_BYTES) break
      this.forget(oldest)
    }
  }

  private forget(topic: string): void {
    this.rememberedBytes -= this.sizes.get(topic) ?? 0
    this.sizes.delete(topic)
    this.lastPayloads.delete(topic)
  }
}

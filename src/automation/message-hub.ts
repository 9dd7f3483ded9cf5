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

/** How many topics' last payloads are remembered (oldest forgotten first), so `#` triggers cannot grow it forever. */
const MAX_REMEMBERED_TOPICS = 10_000

/**
 * The engine's one door to the bus: one bus subscription per pattern however many automations listen to it,
 * the last payload seen per topic (for expressions), oversized payloads dropped, and a change signal that
 * `wait_for` conditions re-check on.
 */
export class MessageHub {
  private readonly patterns = new Map<
    string,
    { unsubscribe: () => void; listeners: Set<(m: IncomingMessage) => void> }
  >()
  private readonly lastPayloads = new Map<string, IncomingMessage>()
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

  /** The last message seen on `topic` (only topics some automation watches are seen). */
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
    this.remember(decoded)
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

  private remember(message: IncomingMessage): void {
    this.lastPayloads.delete(message.topic)
    this.lastPayloads.set(message.topic, message)
    if (this.lastPayloads.size > MAX_REMEMBERED_TOPICS) {
      const oldest = this.lastPayloads.keys().next().value
      if (oldest !== undefined) this.lastPayloads.delete(oldest)
    }
  }
}

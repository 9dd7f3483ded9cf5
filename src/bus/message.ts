/**
 * What genlock needs from a message broker, and a message as automations see it. src/mqtt implements the bus
 * over MQTT; nothing else imports an MQTT library.
 */

/** Largest payload handed to subscribers unless `mqtt.max_payload_bytes` says otherwise; bigger ones are dropped. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024

/** One message as the bus delivers it. */
export interface BusMessage {
  readonly topic: string
  readonly payload: Buffer
  readonly retain?: boolean
}

export interface PublishOptions {
  readonly retain?: boolean
  readonly qos?: 0 | 1
  /**
   * Default true: a message published while the broker is away is kept and sent once it is back. False: the
   * publish fails at once instead, for a message that may be stale by then (a light command issued under a lock).
   */
  readonly queueWhileOffline?: boolean
}

export interface MessageBus {
  /** `pattern` may use MQTT wildcards (`+`, `#`). Returns the unsubscribe function. */
  subscribe(pattern: string, handler: (message: BusMessage) => void): () => void
  publish(topic: string, payload: string | Buffer, options?: PublishOptions): Promise<void>
}

/** A message as automations see it: payload decoded as UTF-8, JSON parsed on first use. */
export interface IncomingMessage {
  readonly topic: string
  readonly payload: string
  /** The payload parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown
  /** True for a retained message the broker handed over on subscribing. */
  readonly retain: boolean
}

/** Decodes a payload into an IncomingMessage; JSON is parsed the first time `json` is read. */
export function incoming(topic: string, payload: string, retain = false): IncomingMessage {
  let parsed: { value: unknown } | undefined
  return {
    topic,
    payload,
    retain,
    get json() {
      if (!parsed) {
        try {
          parsed = { value: JSON.parse(payload) as unknown }
        } catch {
          parsed = { value: undefined }
        }
      }
      return parsed.value
    },
  }
}

/**
 * What the MQTT light adapter needs from a broker connection. The daemon passes its MQTT connection, which is
 * a `MessageBus` (src/automation/bus.ts); the two interfaces are kept structurally identical so either fits the
 * other, and src/devices never imports an MQTT library.
 */

/** One message as delivered to a subscriber. */
export interface MqttLinkMessage {
  readonly topic: string
  readonly payload: Buffer
  readonly retain?: boolean
}

export interface MqttLinkPublishOptions {
  readonly retain?: boolean
  readonly qos?: 0 | 1
}

export interface MqttLink {
  /** `pattern` may use MQTT wildcards (`+`, `#`). Returns the unsubscribe function. */
  subscribe(pattern: string, handler: (message: MqttLinkMessage) => void): () => void
  publish(topic: string, payload: string | Buffer, options?: MqttLinkPublishOptions): Promise<void>
}

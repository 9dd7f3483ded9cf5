/**
 * What automations need from a message broker. src/mqtt implements it over MQTT; the automation layer never
 * imports an MQTT library.
 */
export interface BusMessage {
  readonly topic: string
  readonly payload: Buffer
  readonly retain?: boolean
}

export interface PublishOptions {
  readonly retain?: boolean
  readonly qos?: 0 | 1
}

export interface MessageBus {
  /** `pattern` may use MQTT wildcards (`+`, `#`). Returns the unsubscribe function. */
  subscribe(pattern: string, handler: (message: BusMessage) => void): () => void
  publish(topic: string, payload: string | Buffer, options?: PublishOptions): Promise<void>
}

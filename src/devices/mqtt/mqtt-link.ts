/**
 * What the MQTT light adapter needs from a broker connection: the daemon's MessageBus (src/bus), so src/devices
 * never imports an MQTT library.
 */
import type { BusMessage, MessageBus, PublishOptions } from '../../bus/index.js'

/** One message as delivered to a subscriber. */
export type MqttLinkMessage = BusMessage
export type MqttLinkPublishOptions = PublishOptions

/**
 * The bus, and (where the bus has them, as the daemon's MQTT connection does) whether the broker is connected now
 * and a way to hear it come back. A bus without them (an embedded broker in the same process) is always connected.
 */
export interface MqttLink extends MessageBus {
  readonly connected?: boolean
  /** Calls `listener` after every reconnect; returns a function that removes it. */
  onReconnect?(listener: (sessionPresent: boolean) => void): () => void
}

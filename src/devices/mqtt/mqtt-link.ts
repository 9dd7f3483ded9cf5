/**
 * What the MQTT light adapter needs from a broker connection: the daemon's MessageBus (src/bus), so src/devices
 * never imports an MQTT library.
 */
import type { BusMessage, MessageBus, PublishOptions } from '../../bus/index.js'

/** One message as delivered to a subscriber. */
export type MqttLinkMessage = BusMessage
export type MqttLinkPublishOptions = PublishOptions
export type MqttLink = MessageBus

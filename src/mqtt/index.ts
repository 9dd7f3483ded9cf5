/** The only part of genlock that speaks MQTT: the broker connection and the embedded broker (topic rules: src/bus). */
export { startEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from './broker.js'
export { DEFAULT_BROKER_LIMITS, type BrokerLimits } from './broker-limits.js'
export { BrokerUnreachableError, MqttConnection, type MqttConnectionOptions } from './connection.js'
export { redactUrl, silentLogger, type MqttLogger } from './logger.js'

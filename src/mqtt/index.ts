/** The only part of genlock that speaks MQTT: the broker connection, the embedded broker and topic rules. */
export { startEmbeddedBroker, type EmbeddedBroker } from './broker.js'
export { DEFAULT_MAX_PAYLOAD_BYTES, MqttConnection, type MqttConnectionOptions } from './connection.js'
export { redactUrl, silentLogger, type MqttLogger } from './logger.js'
export { filterProblem, isWildcard, MAX_TOPIC_BYTES, publishTopicProblem, topicMatches } from './topics.js'

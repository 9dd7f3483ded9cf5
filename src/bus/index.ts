/** The message bus seen from genlock: topic rules and message shapes, free of any MQTT library. */
export {
  DEFAULT_MAX_PAYLOAD_BYTES,
  incoming,
  type BusMessage,
  type IncomingMessage,
  type MessageBus,
  type PublishOptions,
} from './message.js'
export { filterProblem, isWildcard, MAX_TOPIC_BYTES, publishTopicProblem, topicMatches } from './topics.js'

/** Home Assistant over MQTT: discovery of automations and bulbs, and HA light commands as manual transactions. */
export {
  automationDiscovery,
  bulbDiscovery,
  lockBackendDiscovery,
  type DiscoveryContext,
  type DiscoveryMessage,
} from './discovery.js'
export {
  HomeAssistant,
  type AutomationView,
  type HomeAssistantLogger,
  type HomeAssistantOptions,
} from './home-assistant.js'
export { deviceIdentifier, discoveryTopic, entityIds, lightTopics, sanitizeId, type EntityKind } from './ids.js'
export {
  LightCommandError,
  lightStatePayload,
  parseLightCommand,
  supportedColorModes,
  type ColorMode,
  type LightStatePayload,
} from './light-state.js'
export { MANUAL_HOLDER, ManualControl, type ManualLogger } from './manual-control.js'

/**
 * Home Assistant over MQTT: discovery of automations, bulbs and the lock backend, and manual control (a person's
 * change, from HA or made at the bulb, holds the bulb at the manual priority).
 */
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
export {
  deviceIdentifier,
  discoveryTopic,
  entityIds,
  lightTopics,
  releaseTopic,
  sanitizeId,
  type EntityKind,
} from './ids.js'
export {
  LightCommandError,
  lightStatePayload,
  parseLightCommand,
  supportedColorModes,
  type ColorMode,
  type LightStatePayload,
} from './light-state.js'
export {
  MANUAL_HOLDER,
  ManualControl,
  type ManualHoldSettings,
  type ManualHoldView,
  type ManualLogger,
  type ManualSource,
} from './manual-control.js'

/**
 * The discovery configs genlock publishes for Home Assistant (retained, at `<prefix>/<component>/<object_id>/config`):
 * per automation a switch and a run-state sensor, per bulb a JSON-schema light, a "held by" sensor and a "Release
 * manual hold" button, and genlock's own diagnostic sensors (config problems, unreachable bulbs).
 * Every state topic here is one the daemon already publishes, except the light's, which speaks HA's JSON schema.
 */
import { readFileSync } from 'node:fs'
import type { AutomationState } from '../automation/status.js'
import type { Bulb } from '../devices/bulb.js'
import { deviceIdentifier, discoveryTopic, entityIds, lightTopics, releaseTopic, type EntityKind } from './ids.js'
import { supportedColorModes } from './light-state.js'

/** One entity's discovery message. */
export interface DiscoveryMessage {
  readonly kind: EntityKind
  /** `<prefix>/<component>/<object_id>/config` */
  readonly topic: string
  readonly config: Readonly<Record<string, unknown>>
}

/** Where genlock and Home Assistant meet on the broker. */
export interface DiscoveryContext {
  /** genlock's `mqtt.base_topic`. */
  readonly baseTopic: string
  /** Home Assistant's discovery prefix. */
  readonly prefix: string
}

const RUN_STATES: readonly AutomationState[] = ['idle', 'waiting', 'running', 'suspended']

/** The switch (start/stop) and run-state sensor of the automation called `name`. */
export function automationDiscovery(context: DiscoveryContext, name: string): DiscoveryMessage[] {
  const { baseTopic } = context
  const stateTopic = `${baseTopic}/automation/${name}`
  const device = {
    identifiers: [deviceIdentifier(baseTopic, 'automation', name)],
    name: `genlock ${name}`,
    manufacturer: 'genlock',
    model: 'automation',
    sw_version: VERSION,
  }
  const common = { device, origin: ORIGIN, availability: daemonAvailability(baseTopic), qos: 1 }
  return [
    entity(context, 'automation_switch', name, {
      // The device's main feature: HA names the entity after the device.
      name: null,
      icon: 'mdi:play-pause',
      command_topic: `${stateTopic}/set`,
      payload_on: 'ON',
      payload_off: 'OFF',
      state_topic: stateTopic,
      // The daemon publishes {"state": "...", "last_error": ...}; any state but idle means the automation is on.
      value_template: "{{ 'OFF' if value_json.state == 'idle' else 'ON' }}",
      state_on: 'ON',
      state_off: 'OFF',
      ...common,
    }),
    entity(context, 'automation_state', name, {
      name: 'Run state',
      icon: 'mdi:state-machine',
      state_topic: stateTopic,
      value_template: '{{ value_json.state }}',
      device_class: 'enum',
      options: RUN_STATES,
      // The last run's summary, from the traces extension (`genlock trace <name>` prints the whole run).
      json_attributes_topic: `${stateTopic}/trace`,
      json_attributes_template:
        "{{ {'last_result': value_json.result, 'last_started': value_json.started, " +
        "'preempted_by': value_json.preempted_by, 'last_error': value_json.error} | tojson }}",
      ...common,
    }),
  ]
}

/** The JSON-schema light, the "held by" sensor and the "Release manual hold" button of `bulb`. */
export function bulbDiscovery(context: DiscoveryContext, bulb: Bulb): DiscoveryMessage[] {
  const { baseTopic } = context
  const deviceTopic = `${baseTopic}/device/${bulb.id}`
  const light = lightTopics(baseTopic, bulb.id)
  const device = {
    identifiers: [deviceIdentifier(baseTopic, 'bulb', bulb.id)],
    name: bulb.name,
    manufacturer: 'genlock',
    model: `${bulb.adapter} bulb`,
    sw_version: VERSION,
  }
  const { capabilities } = bulb
  const modes = supportedColorModes(capabilities)
  const reachable = {
    topic: deviceTopic,
    value_template: "{{ 'online' if value_json.state.reachable else 'offline' }}",
  }
  return [
    entity(context, 'light', bulb.id, {
      name: null,
      schema: 'json',
      command_topic: light.command,
      state_topic: light.state,
      // `manual_pending`: a change from HA waiting for a higher priority holder (the alarm) to let go.
      json_attributes_topic: light.attributes,
      brightness: capabilities.dimmable,
      brightness_scale: 100,
      supported_color_modes: modes,
      ...(capabilities.colorTemp
        ? { color_temp_kelvin: true, min_kelvin: capabilities.colorTemp.min, max_kelvin: capabilities.colorTemp.max }
        : {}),
      device,
      origin: ORIGIN,
      // Both genlock and the bulb must be up for HA to control it.
      availability: [...daemonAvailability(baseTopic), reachable],
      availability_mode: 'all',
      qos: 1,
    }),
    entity(context, 'holder', bulb.id, {
      name: 'Held by',
      icon: 'mdi:lock-outline',
      state_topic: deviceTopic,
      // The automation whose transaction holds the bulb's lock right now; `none` when it is free.
      value_template: "{{ value_json.holder if value_json.holder else 'none' }}",
      // While a person's change holds the bulb: when that hold ends (the light's attributes carry it).
      json_attributes_topic: light.attributes,
      json_attributes_template:
        "{{ {'hold_until': value_json.manual_hold_until, 'hold_remaining_s': value_json.manual_hold_remaining_s} | tojson }}",
      device,
      origin: ORIGIN,
      availability: daemonAvailability(baseTopic),
      qos: 1,
    }),
    entity(context, 'release', bulb.id, {
      name: 'Release manual hold',
      icon: 'mdi:lock-open-variant-outline',
      // Ends a person's hold on the bulb: the automations it suspended resume.
      command_topic: releaseTopic(baseTopic, bulb.id),
      payload_press: 'RELEASE',
      device,
      origin: ORIGIN,
      availability: daemonAvailability(baseTopic),
      qos: 1,
    }),
  ]
}

/**
 * A connectivity sensor for the lock backend (Redis): on while genlock reaches it, off during an outage (when
 * triggers wait for it, `lock.outage_wait`). Its state topic, `<base>/locks`, is published by the daemon.
 */
export function lockBackendDiscovery(context: DiscoveryContext): DiscoveryMessage {
  const { baseTopic } = context
  return entity(context, 'lock_backend', 'locks', {
    name: 'genlock lock backend',
    device_class: 'connectivity',
    entity_category: 'diagnostic',
    state_topic: `${baseTopic}/locks`,
    value_template: '{{ value_json.state }}',
    payload_on: 'online',
    payload_off: 'offline',
    origin: ORIGIN,
    availability: daemonAvailability(baseTopic),
    qos: 1,
  })
}

/**
 * genlock's own diagnostic sensors, on a device of their own: how many config problems there are now (the list as
 * attributes, file:line:column) and which bulbs do not answer. Both read the retained `<base>/health`.
 */
export function healthDiscovery(context: DiscoveryContext): DiscoveryMessage[] {
  const { baseTopic } = context
  const healthTopic = `${baseTopic}/health`
  const common = {
    state_topic: healthTopic,
    json_attributes_topic: healthTopic,
    entity_category: 'diagnostic',
    state_class: 'measurement',
    device: {
      identifiers: [deviceIdentifier(baseTopic, 'daemon', baseTopic)],
      // Named after the base topic only when it is not the default: two genlock instances on one broker.
      name: baseTopic === 'genlock' ? 'genlock' : `genlock ${baseTopic}`,
      manufacturer: 'genlock',
      model: 'daemon',
      sw_version: VERSION,
    },
    origin: ORIGIN,
    availability: daemonAvailability(baseTopic),
    qos: 1,
  }
  return [
    entity(context, 'config_problems', 'daemon', {
      name: 'Config problems',
      icon: 'mdi:file-alert-outline',
      value_template: '{{ value_json.config_problems | count }}',
      json_attributes_template:
        "{{ {'problems': value_json.config_problems | map(attribute='text') | list} | tojson }}",
      ...common,
    }),
    entity(context, 'unreachable_bulbs', 'daemon', {
      name: 'Unreachable bulbs',
      icon: 'mdi:lightbulb-off-outline',
      value_template: '{{ value_json.unreachable | count }}',
      json_attributes_template: "{{ {'bulbs': value_json.unreachable} | tojson }}",
      ...common,
    }),
  ]
}

function entity(
  context: DiscoveryContext,
  kind: EntityKind,
  name: string,
  config: Record<string, unknown>,
): DiscoveryMessage {
  const { objectId, uniqueId } = entityIds(context.baseTopic, kind, name)
  return { kind, topic: discoveryTopic(context.prefix, kind, objectId), config: { unique_id: uniqueId, ...config } }
}

function daemonAvailability(
  baseTopic: string,
): { topic: string; payload_available: string; payload_not_available: string }[] {
  return [{ topic: `${baseTopic}/status`, payload_available: 'online', payload_not_available: 'offline' }]
}

/** The package version, read from package.json (two folders up from both src/homeassistant and dist/homeassistant). */
function readVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8')
    return (JSON.parse(text) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

const VERSION = readVersion()
const ORIGIN = { name: 'genlock', sw_version: VERSION }

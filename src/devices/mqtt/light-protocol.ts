import type { BulbState } from '../bulb.js'
import type { EchoTolerance } from '../reported-state.js'
import type { ResolvedCommand } from '../resolve-command.js'

/** One MQTT message to publish. */
export interface OutgoingMessage {
  readonly topic: string
  readonly payload: string
}

/**
 * How one family of MQTT lights talks (Zigbee2MQTT, Tasmota): which topics to follow, how a command is
 * written, and how state and availability messages read. Decoders never throw on bad payloads: they return
 * `undefined` and the bulb logs the topic.
 */
export interface MqttLightProtocol {
  /** Topics carrying the light's state. */
  readonly stateTopics: readonly string[]
  /** How far a reported state may be from a commanded one and still be its echo (the light family's rounding). */
  readonly echo: EchoTolerance
  /** The topic carrying online/offline, when the protocol has one. */
  readonly availabilityTopic?: string
  /** Messages that make the light apply `command`. */
  encode(command: ResolvedCommand): OutgoingMessage[]
  /** Messages that make the light publish its state. */
  statusRequest(): OutgoingMessage[]
  /** The state a state-topic message describes (merged over `previous`), or undefined when unreadable. */
  decodeState(topic: string, payload: Buffer, previous: BulbState): BulbState | undefined
  /** true/false for online/offline, undefined when unreadable. */
  decodeAvailability(payload: Buffer): boolean | undefined
}

/** Parses a JSON object payload; undefined for anything else (bad JSON, arrays, scalars). */
export function parseJsonObject(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'))
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

export function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

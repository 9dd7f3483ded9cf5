import { createHash } from 'node:crypto'

/**
 * `text` made safe for Home Assistant ids and discovery topics: only `[a-zA-Z0-9_-]`. When anything had to be
 * replaced, a short hash of the original is appended, so `a.b` and `a_b` do not collide into one entity.
 *
 * @example
 * sanitizeId('bath_bulb') // 'bath_bulb'
 * sanitizeId('home/genlock') // 'home_genlock_1c2d3e'
 */
export function sanitizeId(text: string): string {
  const clean = text.replace(/[^a-zA-Z0-9_-]/g, '_')
  if (clean === text && clean !== '') return clean
  const hash = createHash('sha1').update(text).digest('hex').slice(0, 6)
  return clean === '' ? hash : `${clean}_${hash}`
}

/**
 * What an entity is about: an automation (switch, run-state sensor), a bulb (light, holder sensor, release button),
 * or genlock itself (its health: config problems, unreachable bulbs; the lock backend's reachability).
 */
export type EntityKind =
  | 'automation_switch'
  | 'automation_state'
  | 'light'
  | 'holder'
  | 'release'
  | 'config_problems'
  | 'unreachable_bulbs'
  | 'lock_backend'

/** The Home Assistant component each kind is discovered as. */
export const COMPONENT_OF: Readonly<Record<EntityKind, 'switch' | 'sensor' | 'light' | 'button' | 'binary_sensor'>> = {
  automation_switch: 'switch',
  automation_state: 'sensor',
  light: 'light',
  holder: 'sensor',
  release: 'button',
  lock_backend: 'binary_sensor',
  config_problems: 'sensor',
  unreachable_bulbs: 'sensor',
}

/**
 * The ids of one entity: `<base>_<kind>_<name>`, sanitised, so two genlock instances (two base topics) on one
 * broker never claim each other's entities.
 */
export function entityIds(
  baseTopic: string,
  kind: EntityKind,
  name: string,
): { readonly objectId: string; readonly uniqueId: string } {
  const objectId = `${sanitizeId(baseTopic)}_${kind}_${sanitizeId(name)}`
  return { objectId, uniqueId: `genlock_${objectId}` }
}

/** `<prefix>/<component>/<object_id>/config`, where Home Assistant looks for discovery configs. */
export function discoveryTopic(prefix: string, kind: EntityKind, objectId: string): string {
  return `${prefix}/${COMPONENT_OF[kind]}/${objectId}/config`
}

/** The topics genlock uses for one bulb's Home Assistant light: state, commands, and attributes. */
export function lightTopics(
  baseTopic: string,
  deviceId: string,
): { readonly state: string; readonly command: string; readonly attributes: string } {
  const state = `${baseTopic}/device/${deviceId}/light`
  return { state, command: `${state}/set`, attributes: `${state}/attributes` }
}

/** `<base>/device/<id>/release`: any payload ends a person's manual hold on the bulb. */
export function releaseTopic(baseTopic: string, deviceId: string): string {
  return `${baseTopic}/device/${deviceId}/release`
}

/** The identifier of the Home Assistant device an automation or a bulb appears as. */
export function deviceIdentifier(baseTopic: string, kind: 'automation' | 'bulb' | 'daemon', name: string): string {
  return `genlock_${sanitizeId(baseTopic)}_${kind}_${sanitizeId(name)}`
}

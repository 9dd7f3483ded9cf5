/**
 * MQTT topic rules (MQTT 3.1.1 §4.7 and 5.0 §4.7), in one dependency-free place: every part of genlock that
 * matches or checks a topic calls these, so a filter means the same thing to a trigger, to the broker connection
 * and to the tools.
 */

/** MQTT caps a topic at 65,535 bytes of UTF-8. */
export const MAX_TOPIC_BYTES = 65_535

/** Why `topic` is not a valid topic to publish to, or undefined when it is. */
export function publishTopicProblem(topic: string): string | undefined {
  const common = commonProblem(topic)
  if (common) return common
  if (isWildcard(topic)) return `publish topic '${topic}' must not contain the wildcards + or #`
  return undefined
}

/** Why `filter` is not a valid subscription filter, or undefined when it is. */
export function filterProblem(filter: string): string | undefined {
  const common = commonProblem(filter)
  if (common) return common
  const levels = filter.split('/')
  for (const [i, level] of levels.entries()) {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return `topic filter '${filter}': # must be a whole level and the last one`
    }
    if (level.includes('+') && level !== '+') return `topic filter '${filter}': + must be a whole level`
  }
  return undefined
}

function commonProblem(topic: string): string | undefined {
  if (topic.length === 0) return 'topic must not be empty'
  if (topic.includes('\u0000')) return `topic '${topic}' must not contain a NUL character`
  if (Buffer.byteLength(topic, 'utf8') > MAX_TOPIC_BYTES) return `topic is longer than ${MAX_TOPIC_BYTES} bytes`
  return undefined
}

/**
 * Whether `topic` matches the subscription `filter`: `+` is exactly one level (an empty one too), `#` this level
 * and every level below, including the parent itself. Topics starting with `$` (broker internals such as `$SYS`)
 * are not matched by a filter starting with a wildcard, as the spec requires.
 *
 * @example
 * topicMatches('home/+/light', 'home/bath/light') // true
 * topicMatches('home/#', 'home') // true: # also matches the parent level
 * topicMatches('#', '$SYS/broker/uptime') // false
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true
  if (topic.charCodeAt(0) === DOLLAR && (filter.charCodeAt(0) === PLUS || filter.charCodeAt(0) === HASH)) return false
  // Level by level on the strings themselves: every incoming message is matched against every subscription, so
  // this runs tens of times per message and must not allocate (splitting both did).
  let f = 0 // where the filter's current level starts
  let t = 0 // where the topic's current level starts; -1 once the topic has no level left
  for (;;) {
    const fEnd = levelEnd(filter, f)
    const wildcard = fEnd - f === 1 ? filter.charCodeAt(f) : 0
    if (wildcard === HASH) return fEnd === filter.length
    if (t < 0) return false
    const tEnd = levelEnd(topic, t)
    if (wildcard !== PLUS && !sameLevel(filter, f, fEnd, topic, t, tEnd)) return false
    if (fEnd === filter.length) return tEnd === topic.length
    f = fEnd + 1
    t = tEnd === topic.length ? -1 : tEnd + 1
  }
}

const DOLLAR = 0x24
const PLUS = 0x2b
const HASH = 0x23

function levelEnd(text: string, start: number): number {
  const slash = text.indexOf('/', start)
  return slash < 0 ? text.length : slash
}

function sameLevel(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false
  for (let i = 0; i < aEnd - aStart; i++) if (a.charCodeAt(aStart + i) !== b.charCodeAt(bStart + i)) return false
  return true
}

/** Whether `filter` contains a wildcard. */
export function isWildcard(filter: string): boolean {
  return filter.includes('+') || filter.includes('#')
}

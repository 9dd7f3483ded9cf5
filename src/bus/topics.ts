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
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    const level = f[i]
    if (level === '#') return i === f.length - 1
    if (i >= t.length) return false
    if (level !== '+' && level !== t[i]) return false
  }
  return f.length === t.length
}

/** Whether `filter` contains a wildcard. */
export function isWildcard(filter: string): boolean {
  return filter.includes('+') || filter.includes('#')
}

/**
 * True when `topic` matches the MQTT subscription `pattern` (`+` one level, `#` this level and all below).
 *
 * @example
 * topicMatches('home/+/motion', 'home/hall/motion') // true
 * topicMatches('home/#', 'home') // true
 */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === topic) return true
  const want = pattern.split('/')
  const have = topic.split('/')
  for (let i = 0; i < want.length; i++) {
    const level = want[i]!
    if (level === '#') return i < want.length - 1 ? false : true
    if (i >= have.length) return false
    if (level !== '+' && level !== have[i]) return false
  }
  return want.length === have.length
}

/** Why `pattern` is not a valid MQTT subscription, or undefined when it is. */
export function checkTopicPattern(pattern: string): string | undefined {
  if (pattern === '') return 'a topic must not be empty'
  const levels = pattern.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!
    if (level === '#' && i !== levels.length - 1) return `'#' must be the last level of "${pattern}"`
    if (level !== '#' && level !== '+' && /[+#]/.test(level)) {
      return `wildcards must fill a whole level in "${pattern}"`
    }
  }
  return undefined
}

import { describe, expect, it } from 'vitest'
import { filterProblem, publishTopicProblem, topicMatches } from '../../src/mqtt/topics.js'

describe('topic rules', () => {
  it('matches + and # as MQTT does', () => {
    expect(topicMatches('home/+/light', 'home/bath/light')).toBe(true)
    expect(topicMatches('home/+/light', 'home/bath/tub/light')).toBe(false)
    expect(topicMatches('home/#', 'home')).toBe(true)
    expect(topicMatches('home/#', 'home/a/b/c')).toBe(true)
    expect(topicMatches('#', 'anything/at/all')).toBe(true)
    expect(topicMatches('home/party', 'home/party')).toBe(true)
    expect(topicMatches('home/party', 'home/party/x')).toBe(false)
    expect(topicMatches('home/+', 'home/')).toBe(true)
  })

  it('keeps $ topics away from leading wildcards', () => {
    expect(topicMatches('#', '$SYS/broker/uptime')).toBe(false)
    expect(topicMatches('+/broker/uptime', '$SYS/broker/uptime')).toBe(false)
    expect(topicMatches('$SYS/#', '$SYS/broker/uptime')).toBe(true)
  })

  it('rejects wildcards and empty topics in publish topics', () => {
    expect(publishTopicProblem('home/party')).toBeUndefined()
    expect(publishTopicProblem('home/+')).toMatch(/wildcards/)
    expect(publishTopicProblem('home/#')).toMatch(/wildcards/)
    expect(publishTopicProblem('')).toMatch(/empty/)
    expect(publishTopicProblem('a\u0000b')).toMatch(/NUL/)
    expect(publishTopicProblem('x'.repeat(70_000))).toMatch(/longer/)
  })

  it('rejects misplaced wildcards in filters', () => {
    expect(filterProblem('home/+/light')).toBeUndefined()
    expect(filterProblem('home/#')).toBeUndefined()
    expect(filterProblem('home/#/light')).toMatch(/last/)
    expect(filterProblem('home/ba#')).toMatch(/whole level/)
    expect(filterProblem('home/ba+')).toMatch(/whole level/)
    expect(filterProblem('')).toMatch(/empty/)
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { filterProblem, publishTopicProblem, topicMatches } from '../../src/bus/index.js'

/** The matching rules of MQTT 3.1.1 §4.7 (and 5.0 §4.7), with the spec's own examples where it gives them. */
const MATCHING: readonly (readonly [filter: string, topic: string, matches: boolean, rule: string])[] = [
  ['sport/tennis/player1/#', 'sport/tennis/player1', true, '# matches the parent level'],
  ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true, '# matches one level below'],
  ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true, '# matches any depth below'],
  ['sport/#', 'sport', true, '# matches the parent level'],
  ['#', 'sport/tennis/player1', true, '# alone matches every topic'],
  ['#', '/leading/slash', true, '# alone matches a topic with an empty first level'],
  ['sport/tennis/+', 'sport/tennis/player1', true, '+ matches exactly one level'],
  ['sport/tennis/+', 'sport/tennis/player1/ranking', false, '+ does not match two levels'],
  ['sport/+', 'sport', false, '+ does not match a missing level'],
  ['sport/+', 'sport/', true, '+ matches an empty level'],
  ['+/+', '/finance', true, 'a leading / starts with an empty level'],
  ['/+', '/finance', true, 'a leading / starts with an empty level'],
  ['+', '/finance', false, '/finance has two levels'],
  ['+/tennis/#', 'sport/tennis/player1', true, '+ and # together'],
  ['sport/+/player1', 'sport/tennis/player1', true, '+ in the middle'],
  ['a//b', 'a//b', true, 'empty levels are levels'],
  ['a/+/b', 'a//b', true, '+ matches an empty middle level'],
  ['Sport/tennis', 'sport/tennis', false, 'topics are case sensitive'],
  ['home/party', 'home/party', true, 'an exact filter matches itself'],
  ['home/party', 'home/partyx', false, 'a level must match whole'],
  ['home/party', 'home/party/x', false, 'an exact filter does not match below'],
  ['#', '$SYS/broker/uptime', false, 'a leading wildcard never matches a $ topic'],
  ['+/monitor/Clients', '$SYS/monitor/Clients', false, 'a leading wildcard never matches a $ topic'],
  ['$SYS/#', '$SYS/monitor/Clients', true, 'a $ filter matches $ topics'],
  ['$SYS/monitor/+', '$SYS/monitor/Clients', true, 'a $ filter may use + further down'],
]

describe('topicMatches (MQTT §4.7)', () => {
  it.each(MATCHING)('%s against %s is %s (%s)', (filter, topic, matches) => {
    expect(topicMatches(filter, topic)).toBe(matches)
  })

  it('matches any topic by itself, by #, by + on every level and by its first level with #', () => {
    const level = fc.stringMatching(/^[a-z0-9_ ]{0,6}$/)
    fc.assert(
      fc.property(fc.array(level, { minLength: 1, maxLength: 5 }), (levels) => {
        const topic = levels.join('/')
        fc.pre(topic.length > 0)
        expect(topicMatches(topic, topic)).toBe(true)
        expect(topicMatches('#', topic)).toBe(true)
        expect(topicMatches(levels.map(() => '+').join('/'), topic)).toBe(true)
        expect(topicMatches([...levels.map(() => '+'), '+'].join('/'), topic)).toBe(false)
        expect(topicMatches(`${levels[0]}/#`, topic)).toBe(true)
      }),
    )
  })
})

/** The spec's rule written the obvious way (split into levels), as a model for the allocation-free matcher. */
function modelMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false
  }
  return f.length === t.length
}

describe('topicMatches against the model', () => {
  it('agrees with splitting into levels on random filters and topics', () => {
    const topicLevel = fc.constantFrom('', 'a', 'b', 'ab', '$x')
    const filterLevel = fc.constantFrom('', 'a', 'b', 'ab', '$x', '+')
    const filter = fc
      .tuple(fc.array(filterLevel, { minLength: 1, maxLength: 4 }), fc.boolean())
      .map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/'))
    const topic = fc.array(topicLevel, { minLength: 1, maxLength: 5 }).map((levels) => levels.join('/'))
    fc.assert(
      fc.property(fc.oneof(filter, fc.constant('#')), topic, (f, t) => {
        fc.pre(t.length > 0)
        expect(topicMatches(f, t)).toBe(modelMatches(f, t))
      }),
      { numRuns: 5000 },
    )
  })
})

describe('topic validation', () => {
  it.each([
    ['sport/tennis/#', undefined],
    ['sport/tennis#', /whole level and the last one/],
    ['sport/tennis/#/ranking', /whole level and the last one/],
    ['+', undefined],
    ['+/tennis/#', undefined],
    ['sport+', /\+ must be a whole level/],
    ['sport/+/player1', undefined],
    ['', /empty/],
    ['a\u0000b', /NUL/],
    ['x'.repeat(70_000), /longer/],
  ])('filter %j: %s', (filter, problem) => {
    if (problem === undefined) expect(filterProblem(filter)).toBeUndefined()
    else expect(filterProblem(filter)).toMatch(problem)
  })

  it.each([
    ['home/party', undefined],
    ['home/+', /wildcards/],
    ['home/#', /wildcards/],
    ['', /empty/],
    ['a\u0000b', /NUL/],
    ['x'.repeat(70_000), /longer/],
  ])('publish topic %j: %s', (topic, problem) => {
    if (problem === undefined) expect(publishTopicProblem(topic)).toBeUndefined()
    else expect(publishTopicProblem(topic)).toMatch(problem)
  })
})

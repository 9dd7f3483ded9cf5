import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseDuration } from '../../src/automation/duration.js'
import { checkCondition, evaluateCondition, renderDeep, renderTemplate } from '../../src/automation/expression.js'
import { checkTopicPattern, topicMatches } from '../../src/automation/topic.js'

describe('topicMatches', () => {
  it.each([
    ['home/party', 'home/party', true],
    ['home/+', 'home/party', true],
    ['home/+', 'home/party/x', false],
    ['home/#', 'home', true],
    ['home/#', 'home/a/b/c', true],
    ['+/+/temp', 'sensors/hall/temp', true],
    ['+/+/temp', 'sensors/temp', false],
    ['home/party', 'home/partyx', false],
    ['#', 'anything/at/all', true],
  ])('%s against %s is %s', (pattern, topic, expected) => {
    expect(topicMatches(pattern, topic)).toBe(expected)
  })

  it('matches like MQTT for any topic: itself, #, and + in every level', () => {
    const level = fc.stringMatching(/^[a-z0-9_]{1,6}$/)
    fc.assert(
      fc.property(fc.array(level, { minLength: 1, maxLength: 5 }), (levels) => {
        const topic = levels.join('/')
        expect(topicMatches(topic, topic)).toBe(true)
        expect(topicMatches('#', topic)).toBe(true)
        expect(topicMatches(levels.map(() => '+').join('/'), topic)).toBe(true)
        expect(topicMatches([...levels.map(() => '+'), '+'].join('/'), topic)).toBe(false)
        expect(topicMatches(`${levels[0]}/#`, topic)).toBe(true)
      }),
    )
  })

  it('rejects malformed patterns', () => {
    expect(checkTopicPattern('home/#/x')).toMatch(/'#' must be the last level/)
    expect(checkTopicPattern('home/a+')).toMatch(/whole level/)
    expect(checkTopicPattern('')).toMatch(/empty/)
    expect(checkTopicPattern('home/+/x/#')).toBeUndefined()
  })
})

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['1s', 1000],
    ['1.5s', 1500],
    ['10m', 600_000],
    ['2h', 7_200_000],
    [250, 250],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['soon', '1 day', '-1s', '1d', '', -5, Infinity, null, '600h', 2 ** 31])('rejects %s', (value) => {
    expect(parseDuration(value)).toBeUndefined()
  })
})

describe('expressions and templates', () => {
  const context = { trigger: { payload: 'ON', json: { level: 30, color: 'teal' } }, repeat: { index: 2 } }

  it('keeps the type of a whole-string template and interpolates text otherwise', () => {
    expect(renderTemplate('{{ trigger.json.level * 2 }}', context)).toBe(60)
    expect(renderTemplate('level {{ trigger.json.level }}%, round {{ repeat.index }}', context)).toBe(
      'level 30%, round 2',
    )
    expect(renderTemplate('{{ trigger.json.missing }}', context)).toBeUndefined()
    expect(renderTemplate('no template', context)).toBe('no template')
    expect(renderDeep({ a: ['{{ trigger.json.color|upper }}'] }, context)).toEqual({ a: ['TEAL'] })
  })

  it('evaluates conditions bare or in braces', () => {
    expect(evaluateCondition("trigger.payload == 'ON'", context)).toBe(true)
    expect(evaluateCondition('{{ trigger.json.level > 50 }}', context)).toBe(false)
  })

  it('never runs JavaScript: no function calls but the registered transforms', () => {
    expect(checkCondition("trigger.constructor.constructor('return process')()")).toBeDefined()
    expect(() => evaluateCondition('require("fs")', context)).toThrow()
    expect(() => renderTemplate('{{ trigger|exec }}', context)).toThrow(/exec/)
    expect(checkCondition('trigger|exec')).toMatch(/^unknown transform '\|exec' \(known: number, string/)
    expect(checkCondition('system("ls")')).toBe("unknown function 'system' (expressions cannot call functions)")
    expect(checkCondition('trigger.payload|lower == "on" && trigger.list[.x > 1]|json')).toBeUndefined()
  })
})

import { describe, expect, it } from 'vitest'
import { parseDuration } from '../../src/automation/duration.js'
import { checkCondition, evaluateCondition, renderDeep, renderTemplate } from '../../src/automation/expression.js'

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

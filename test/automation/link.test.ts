import { describe, expect, it } from 'vitest'
import { formatProblem } from '../../src/config/problems.js'
import { linkAutomations } from '../../src/automation/link.js'
import { parseAutomationSource } from '../../src/automation/parse.js'

const DEVICES = new Set(['bath_bulb', 'hall_bulb'])

/** Parsed from text only: the files do not exist, so a problem's position can only come from the parse. */
function parsed(files: Record<string, string>) {
  return Object.entries(files).map(([file, text]) => parseAutomationSource(`/nowhere/${file}`, DEVICES, text))
}

describe('linkAutomations', () => {
  it('resolves a replace target once, to its definition', () => {
    const [low, fallback] = parsed({
      'low.yaml': 'name: low\ndevices: bath_bulb\non_preempt: { replace: fallback }\nsteps: [{ wait: 1s }]\n',
      'fallback.yaml': 'name: fallback\ndevices: bath_bulb\nsteps: [{ set: { on: false } }]\n',
    })
    const { automations, problems } = linkAutomations([low!.definition, fallback!.definition])
    expect(problems).toEqual([])
    expect(automations[0]).toEqual({
      definition: low!.definition,
      replacement: { ok: true, definition: fallback!.definition },
    })
    expect(automations[1]).toEqual({ definition: fallback!.definition })
  })

  it('keeps the first of two equal names, and places every problem from the parse (no file is read again)', () => {
    const files = parsed({
      'a.yaml': 'name: same\ndevices: bath_bulb\nsteps: [{ wait: 1s }]\n',
      'b.yaml': '# the second one\nname: same\ndevices: bath_bulb\nsteps: [{ wait: 1s }]\n',
      'c.yaml': 'name: c\ndevices: hall_bulb\non_preempt:\n  replace: d\nsteps: [{ wait: 1s }]\n',
      'd.yaml':
        'name: d\ndevices: [bath_bulb, hall_bulb]\nsteps:\n  - parallel:\n      - device: bath_bulb\n        steps: [{ wait: 1s }]\n',
    })
    const byDefinition = new Map(files.map((file) => [file.definition, file]))
    const { automations, problems } = linkAutomations(files.map((file) => file.definition))
    expect(automations.map((automation) => automation.definition.name)).toEqual(['same', 'c', 'd'])
    expect(automations[0]!.definition.file).toBe('/nowhere/a.yaml')
    expect(automations[1]!.replacement).toEqual({
      ok: false,
      problem: "'d' addresses bath_bulb, which 'c' does not lock",
    })
    const lines = problems.map((problem) =>
      formatProblem(byDefinition.get(problem.automation)!.problem(problem.field, problem.message)),
    )
    expect(lines).toEqual([
      "/nowhere/b.yaml:2:7 name: automation name 'same' is already used by /nowhere/a.yaml",
      "/nowhere/c.yaml:4:12 on_preempt.replace: 'd' addresses bath_bulb, which 'c' does not lock",
    ])
  })
})

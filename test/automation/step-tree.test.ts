import { describe, expect, it } from 'vitest'
import { parseAutomationFile } from '../../src/automation/parse.js'
import { childSteps, mapChildSteps, walkSteps } from '../../src/automation/step-tree.js'

const nested = parseAutomationFile(
  'nested.yaml',
  new Set(['bath_bulb', 'hall_bulb']),
  `
name: nested
devices: [bath_bulb, hall_bulb]
steps:
  - repeat:
      count: 2
      steps:
        - if: "true"
          then: [{ wait: 1s }]
          else: [{ log: no }]
  - choose:
      - when: "false"
        steps: [{ wait: 2s }]
    default: [{ wait: 3s }]
  - parallel:
      - device: hall_bulb
        steps: [{ set: { on: true } }]
      - steps: [{ wait_for: { mqtt: a/b } }]
  - publish: { topic: a/c }
`,
)

describe('the step tree', () => {
  it('walkSteps visits every step of every kind, depth first, with its path in the file', () => {
    const seen: string[] = []
    walkSteps(nested.steps, (step, path) => seen.push(`${path} ${step.kind}`))
    expect(seen).toEqual([
      'steps.0 repeat',
      'steps.0.repeat.steps.0 if',
      'steps.0.repeat.steps.0.then.0 wait',
      'steps.0.repeat.steps.0.else.0 log',
      'steps.1 choose',
      'steps.1.choose.0.steps.0 wait',
      'steps.1.default.0 wait',
      'steps.2 parallel',
      'steps.2.parallel.0.steps.0 set',
      'steps.2.parallel.1.steps.0 wait_for',
      'steps.3 publish',
    ])
  })

  it('childSteps says which devices a nested list addresses where it narrows them', () => {
    const parallel = nested.steps[2]!
    expect(childSteps(parallel).map((child) => child.at)).toEqual([
      { path: ['parallel', 0, 'steps'], devices: ['hall_bulb'] },
      { path: ['parallel', 1, 'steps'] },
    ])
    expect(childSteps(nested.steps[3]!)).toEqual([])
  })

  it('mapChildSteps rebuilds a step with other lists and leaves the rest as it was', () => {
    const counted = mapChildSteps(nested.steps[1]!, (list) => list.length)
    expect(counted).toEqual({ kind: 'choose', options: [{ when: 'false', steps: 1 }], default: 1 })
  })
})

/**
 * Issue 13.12 (junk trigger payloads): a payload that makes a run's `set` impossible is rejected before the run
 * asks for the lock, so it never takes the bulb from a running automation; repeated warnings are rate-limited and
 * carry no stack trace. Before, each junk message preempted the party, failed at its first step and logged two
 * lines with stack traces.
 */
import { afterEach, expect, it } from 'vitest'
import { compileAutomation } from '../../src/automation/compile.js'
import { linkAutomations } from '../../src/automation/link.js'
import { parseAutomationSource } from '../../src/automation/parse.js'
import { harness, type Harness } from './support.js'

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

const PARTY = `name: party
devices: [bath_bulb]
trigger:
  - mqtt: home/party
steps:
  - repeat:
      forever: true
      steps:
        - set: { color: red }
        - wait: 20ms
        - set: { color: blue }
        - wait: 20ms
`

const DIM = `name: dim
priority: 100
devices: [bath_bulb]
trigger:
  - mqtt: home/dim
  - mqtt: home/json
    json: { action: dim }
steps:
  - set: { brightness: "{{ trigger.json.level }}", color: "{{ trigger.json.color }}" }
  - wait: 10ms
`

it('a junk payload is rejected before the lock: the running party is never preempted', async () => {
  h = await harness({ 'party.yaml': PARTY, 'dim.yaml': DIM })
  const { bus, bulb, lines, logged } = h
  bus.send('home/party', 'ON')
  await bulb().nextCommand((entry) => entry.command.color === 'blue')
  const rejected = logged('rejected before taking the lock')
  for (let i = 0; i < 20; i++) {
    bus.send('home/dim', 'junk')
    bus.send('home/dim', '{"level": 40, "color": "notacolor"}')
    bus.send('home/json', 'junk')
  }
  expect(String((await rejected).msg)).toBe(
    'trigger mqtt home/dim rejected before taking the lock: steps.0 (set): brightness: expected a number from 0 to 100, got undefined',
  )
  // A good payload still runs, and takes the bulb then.
  const dimmed = bulb().nextCommand((entry) => entry.origin?.holder === 'dim')
  bus.send('home/dim', '{"level": 40, "color": "green"}')
  expect((await dimmed).command).toMatchObject({ brightness: 40, color: 'green' })

  const warnings = lines.filter((line) => line.level === 40)
  // One line per kind, not one per message: the payload rejection and the non-JSON message on home/json.
  expect(warnings.map((line) => line.msg)).toEqual([
    'trigger mqtt home/dim rejected before taking the lock: steps.0 (set): brightness: expected a number from 0 to 100, got undefined',
    'trigger: payload on home/json is not JSON; dropped',
  ])
  expect(lines.filter((line) => JSON.stringify(line).includes('"stack"'))).toEqual([])
  expect(lines.filter((line) => String(line.msg).startsWith('lost the lock'))).toHaveLength(1)
  expect(lines.filter((line) => String(line.msg).startsWith('triggered by mqtt home/dim'))).toHaveLength(1)
})

it('only steps with a template are checked against a payload: fixed values were checked when the file was parsed', () => {
  const text = `name: mixed
devices: [bath_bulb]
trigger:
  - mqtt: home/mixed
steps:
  - set: { on: true, brightness: 60, color: orange }
  - set: { brightness: "{{ trigger.json.level }}" }
`
  const { automations } = linkAutomations([
    parseAutomationSource('/nowhere/mixed.yaml', new Set(['bath_bulb']), text).definition,
  ])
  expect(compileAutomation(automations[0]!).setChecks.map((check) => check.label)).toEqual(['steps.1 (set)'])
})

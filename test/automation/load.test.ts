import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { formatProblem } from '../../src/config/problems.js'
import { readAutomationFiles } from '../../src/automation/load.js'
import { parseAutomationFile } from '../../src/automation/parse.js'

const DEVICES = new Set(['bath_bulb', 'hall_bulb', 'kitchen_strip'])
const SHIPPED = new URL('../../automations/', import.meta.url).pathname

let dir: string | undefined
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

function folder(files: Record<string, string>): string {
  dir = mkdtempSync(join(tmpdir(), 'genlock-automations-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

function problemsOf(text: string, devices = DEVICES): string[] {
  try {
    parseAutomationFile('a.yaml', devices, text)
  } catch (error) {
    return (error as { problems: Parameters<typeof formatProblem>[0][] }).problems.map(formatProblem)
  }
  return []
}

describe('readAutomationFiles', () => {
  it('loads the shipped automations, party and alarm exactly as the issue has them', () => {
    const { definitions, problems } = readAutomationFiles(SHIPPED, DEVICES)
    expect(problems).toEqual([])
    const party = definitions.find((d) => d.name === 'party')!
    const alarm = definitions.find((d) => d.name === 'alarm')!
    expect(party).toMatchObject({
      priority: 0,
      devices: ['bath_bulb'],
      trigger: [{ topic: 'home/party', payload: 'ON' }],
      stop: [{ topic: 'home/party', payload: 'OFF' }],
      onPreempt: 'resume',
      mode: 'single',
      restore: false,
    })
    expect(party.steps).toEqual([
      {
        kind: 'repeat',
        forever: true,
        steps: [
          { kind: 'set', values: { color: 'red', brightness: 80 } },
          { kind: 'wait', ms: 1000 },
          { kind: 'set', values: { color: 'blue' } },
          { kind: 'wait', ms: 1000 },
          { kind: 'set', values: { color: 'yellow' } },
          { kind: 'wait', ms: 1000 },
        ],
      },
    ])
    expect(alarm).toMatchObject({
      priority: 200,
      restore: true,
      lock: { ttl: 600_000, acquireTimeout: 5000 },
      onPreempt: 'restart',
    })
  })

  it('reports every problem of every file with file:line:col and field, and keeps the good files', () => {
    const path = folder({
      'good.yaml': 'name: good\ndevices: [bath_bulb]\nsteps:\n  - set: { on: true }\n',
      'syntax.yaml': 'name: broken\ndevices: [bath_bulb\nsteps: []\n',
      'device.yaml': 'name: device\ndevices: [bath_bulb, garage_bulb]\nsteps:\n  - set: { on: true }\n',
      'step.yaml': 'name: step\ndevices: [bath_bulb]\nsteps:\n  - set: { on: true }\n  - blink: { times: 3 }\n',
      'type.yaml': 'name: type\npriority: high\ndevices: [bath_bulb]\nsteps:\n  - set: { brightness: "80%" }\n',
      'notes.txt': 'not an automation',
    })
    const { definitions, problems } = readAutomationFiles(path, DEVICES)
    expect(definitions.map((d) => d.name)).toEqual(['good'])
    const lines = problems.map(formatProblem).map((line) => line.replace(path + '/', ''))
    expect(lines).toContainEqual(expect.stringMatching(/^syntax\.yaml:\d+:\d+ /))
    expect(lines).toContain(
      "device.yaml:2:22 devices.1: unknown device 'garage_bulb' (known devices: bath_bulb, hall_bulb, kitchen_strip)",
    )
    expect(lines).toContain(
      "step.yaml:5:12 steps.1.blink: unknown step 'blink': expected one of set, wait, repeat, wait_for, if, choose, parallel, publish, log",
    )
    expect(lines).toContainEqual(expect.stringMatching(/^type\.yaml:2:11 priority: .*number/))
    expect(lines).toContainEqual(expect.stringMatching(/^type\.yaml:5:24 steps\.0\.set\.brightness: /))
  })

  it('reports a folder it cannot read', () => {
    const { definitions, problems } = readAutomationFiles('/nonexistent/automations', DEVICES)
    expect(definitions).toEqual([])
    expect(problems[0]).toMatchObject({ file: '/nonexistent/automations', field: '' })
  })

  it('checks names across files, and replace targets', () => {
    const path = folder({
      'a.yaml': 'name: same\ndevices: bath_bulb\nsteps: [{ wait: 1s }]\n',
      'b.yaml': 'name: same\ndevices: bath_bulb\nsteps: [{ wait: 1s }]\n',
      'c.yaml': 'name: c\ndevices: bath_bulb\non_preempt: { replace: nobody }\nsteps: [{ wait: 1s }]\n',
      'd.yaml': 'name: d\ndevices: hall_bulb\non_preempt: { replace: e }\nsteps: [{ wait: 1s }]\n',
      'e.yaml': 'name: e\ndevices: [bath_bulb, hall_bulb]\nsteps: [{ set: { device: bath_bulb, on: false } }]\n',
    })
    const { definitions, problems } = readAutomationFiles(path, DEVICES)
    expect(definitions.map((d) => d.name)).toEqual(['same', 'e'])
    const messages = problems.map(formatProblem).map((line) => line.replace(path + '/', ''))
    expect(messages).toEqual([
      expect.stringMatching(/^b\.yaml:1:7 name: automation name 'same' is already used by .*a\.yaml$/),
      "c.yaml:3:24 on_preempt.replace: no automation named 'nobody' to replace with",
      "d.yaml:3:24 on_preempt.replace: 'e' addresses bath_bulb, which 'd' does not lock",
    ])
  })
  it('a reload keeps the running automation: a newcomer with its name is left out and named (issue 13.7)', () => {
    const path = folder({
      'aaa.yaml': 'name: party\ndevices: bath_bulb\nsteps: [{ wait: 2s }]\n',
      'party.yaml': 'name: party\ndevices: bath_bulb\nsteps: [{ wait: 1s }]\n',
      'night.yaml': 'name: night\ndevices: bath_bulb\nsteps: [{ wait: soon }]\n',
      'zzz.yaml': 'name: night\ndevices: bath_bulb\nsteps: [{ wait: 1s }]\n',
    })
    const running = new Map([
      ['party', join(path, 'party.yaml')],
      ['night', join(path, 'night.yaml')],
    ])
    const { definitions, problems } = readAutomationFiles(path, DEVICES, {}, running)
    expect(definitions.map((d) => d.file)).toEqual([join(path, 'party.yaml')])
    const messages = problems.map(formatProblem).map((line) => line.replaceAll(path + '/', ''))
    expect(messages).toEqual([
      expect.stringMatching(/^night\.yaml:3:/),
      "aaa.yaml:1:7 name: automation name 'party' is already used by party.yaml; this file is left out",
      // night.yaml is broken, so the running night keeps running: the newcomer does not take its name.
      "zzz.yaml:1:7 name: automation name 'night' is already used by night.yaml; this file is left out",
    ])
  })

  it('leaves out an automation whose replacement was left out for a problem of its own', () => {
    const path = folder({
      'a.yaml': 'name: a\ndevices: bath_bulb\non_preempt: { replace: b }\nsteps: [{ wait: 1s }]\n',
      'b.yaml': 'name: b\ndevices: bath_bulb\non_preempt: { replace: nobody }\nsteps: [{ wait: 1s }]\n',
    })
    const { definitions, problems } = readAutomationFiles(path, DEVICES)
    expect(definitions).toEqual([])
    expect(problems.map(formatProblem).map((line) => line.replace(path + '/', ''))).toEqual([
      "b.yaml:3:24 on_preempt.replace: no automation named 'nobody' to replace with",
      "a.yaml:3:24 on_preempt.replace: no automation named 'b' to replace with",
    ])
  })
})

describe('parseAutomationFile', () => {
  it('reads every step kind', () => {
    const definition = parseAutomationFile(
      'all.yaml',
      DEVICES,
      `
name: all_steps
devices: [bath_bulb, hall_bulb]
mode: queued
max: 3
on_error: continue
steps:
  - set: { device: hall_bulb, on: true, color_temp: 3000, transition: 2s }
  - set: { color: "{{ trigger.json.color }}", brightness: "{{ trigger.json.level }}" }
  - wait: 250ms
  - repeat:
      count: 2
      steps: [{ log: "round {{ repeat.index }}" }]
  - wait_for: { mqtt: home/door, payload: open, timeout: 1m, on_timeout: abort }
  - wait_for: { condition: "device.hall_bulb.on", timeout: 5s }
  - if: "trigger.payload == 'ON'"
    then: [{ set: { on: true } }]
    else: [{ set: { on: false } }]
  - choose:
      - when: "trigger.json.level > 50"
        steps: [{ set: { brightness: 100 } }]
    default: [{ set: { brightness: 10 } }]
  - parallel:
      - device: bath_bulb
        steps: [{ set: { color: red } }]
      - device: hall_bulb
        steps: [{ set: { color: blue } }]
  - publish: { topic: "home/log", payload: { level: "{{ trigger.json.level }}" }, retain: true }
  - log: { message: done, level: warn }
`,
    )
    expect(definition.mode).toBe('queued')
    expect(definition.max).toBe(3)
    expect(definition.onError).toBe('continue')
    expect(definition.steps.map((step) => step.kind)).toEqual([
      'set',
      'set',
      'wait',
      'repeat',
      'wait_for',
      'wait_for',
      'if',
      'choose',
      'parallel',
      'publish',
      'log',
    ])
    expect(definition.steps[0]).toEqual({
      kind: 'set',
      devices: ['hall_bulb'],
      values: { on: true, colorTemp: 3000, transition: 2000 },
    })
    expect(definition.steps[4]).toEqual({
      kind: 'wait_for',
      trigger: { kind: 'mqtt', topic: 'home/door', payload: 'open' },
      timeout: 60_000,
      onTimeout: 'abort',
    })
    expect(definition.steps[8]).toEqual({
      kind: 'parallel',
      branches: [
        { devices: ['bath_bulb'], steps: [{ kind: 'set', values: { color: 'red' } }] },
        { devices: ['hall_bulb'], steps: [{ kind: 'set', values: { color: 'blue' } }] },
      ],
    })
  })

  it('names the field of each bad value', () => {
    const problems = problemsOf(`
name: bad
devices: [bath_bulb]
on_preempt: pause
lock: { ttl: forever }
mode: sometimes
trigger:
  - mqtt: home/#/x
steps:
  - wait: soon
  - set: { device: hall_bulb, on: true }
  - set: {}
  - repeat: { count: 2, forever: true, steps: [{ wait: 1s }] }
  - if: "trigger.payload =="
    then: [{ wait: 1s }]
  - set: { color: "{{ trigger.json.color " }
  - publish: { topic: home/+/x }
  - wait: 1s
    extra: 2
`)
    expect(problems).toHaveLength(12)
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^a\.yaml:4:13 on_preempt: expected resume, restart, abort or \{ replace/),
        expect.stringMatching(/^a\.yaml:5:14 lock\.ttl: expected a duration like 500ms/),
        expect.stringMatching(/^a\.yaml:6:7 mode: /),
        expect.stringMatching(
          /^a\.yaml:8:11 trigger\.0\.mqtt: topic filter 'home\/#\/x': # must be a whole level and the last one/,
        ),
        expect.stringMatching(/^a\.yaml:10:11 steps\.0\.wait: expected a duration/),
        "a.yaml:11:20 steps.1.set.device: device 'hall_bulb' is not one of this automation's devices (bath_bulb)",
        'a.yaml:12:10 steps.2.set: set needs at least one of on, brightness, color, color_temp, transition',
        'a.yaml:13:13 steps.3.repeat: repeat needs exactly one of count, while, until, forever: true',
        expect.stringMatching(/^a\.yaml:14:9 steps\.4\.if: bad condition: /),
        expect.stringMatching(/^a\.yaml:16:19 steps\.5\.set\.color: bad template: unclosed/),
        expect.stringMatching(/^a\.yaml:17:23 steps\.6\.publish\.topic: a publish topic must/),
        "a.yaml:19:12 steps.7.extra: unknown field 'extra' in a wait step",
      ]),
    )
  })

  it('rejects a YAML syntax error with its line and column', () => {
    const problems = problemsOf('name: x\n  devices: [a\n')
    expect(problems.length).toBeGreaterThan(0)
    expect(problems.every((line) => /^a\.yaml:\d+:\d+ /.test(line))).toBe(true)
  })
})

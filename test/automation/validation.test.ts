import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { DeviceFacts } from '../../src/automation/device-facts.js'
import { readAutomationFiles } from '../../src/automation/load.js'
import { parseAutomationFile } from '../../src/automation/parse.js'
import { formatProblem, type ConfigError } from '../../src/config/problems.js'

/** What `genlock validate` says of automation files that used to pass and then fail (or do nothing) at run time. */
const DEVICES = new Set(['bath_bulb', 'hall_bulb'])
const HEAD = 'name: a\ndevices: bath_bulb\n'

function problems(text: string): string[] {
  try {
    parseAutomationFile('a.yaml', DEVICES, text)
  } catch (error) {
    return (error as ConfigError).problems.map(formatProblem)
  }
  return []
}

let dir: string | undefined
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

function load(files: Record<string, string>, setting: Parameters<typeof readAutomationFiles>[2] = {}) {
  dir = mkdtempSync(join(tmpdir(), 'genlock-validate-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  const result = readAutomationFiles(dir, DEVICES, setting)
  const strip = (line: string) => line.replace(`${dir}/`, '')
  return {
    names: result.definitions.map((definition) => definition.name),
    problems: result.problems.map(formatProblem).map(strip),
    warnings: result.warnings.map(formatProblem).map(strip),
  }
}

describe('validation: what used to fail only at run time', () => {
  it('unknown colours, with a guess when one is near', () => {
    expect(problems(`${HEAD}steps:\n  - set: { color: reddish }\n  - set: { color: oragne }\n`)).toEqual([
      "a.yaml:4:19 steps.0.set.color: unknown colour 'reddish': use a CSS colour name like red or orange, hex like '#ff8800', { r, g, b }, { h, s, v } or { kelvin }",
      "a.yaml:5:19 steps.1.set.color: unknown colour 'oragne' (did you mean 'orange'?): use a CSS colour name like red or orange, hex like '#ff8800', { r, g, b }, { h, s, v } or { kelvin }",
    ])
  })

  it('variables that do not exist, checked against what each trigger gives', () => {
    const text = `${HEAD}trigger:
  - mqtt: home/a
    condition: "trigger.jsn.level > 3"
  - at: "07:00"
    condition: "trigger.json.level > 3"
steps:
  - log: "{{ trigger.payload_json.level }}"
  - if: "device.garage.on || now.hours > 7"
    then: [{ log: x }]
  - set: { brightness: "{{ triger.json.level }}" }
  - wait_for: { condition: "trigger.device == 'hall_bulb'" }
`
    expect(problems(text)).toEqual([
      'a.yaml:5:16 trigger.0.condition: trigger.jsn does not exist (did you mean trigger.json?); here trigger has trigger.topic, trigger.payload, trigger.json, trigger.retain (started by mqtt)',
      'a.yaml:7:16 trigger.1.condition: trigger.json is only set by mqtt triggers; here trigger has trigger.kind, trigger.scheduled, trigger.timestamp, trigger.catch_up (started by at)',
      "a.yaml:9:10 steps.0.log.message: trigger.payload_json is Home Assistant's name; genlock's is trigger.json. Here trigger has trigger.topic, trigger.payload, trigger.json, trigger.retain, trigger.kind, trigger.scheduled, trigger.timestamp, trigger.catch_up (started by mqtt, at, the set command)",
      "a.yaml:10:9 steps.1.if: device.garage: no device 'garage'; known devices: bath_bulb, hall_bulb",
      "a.yaml:12:24 steps.2.set.brightness: unknown variable 'triger' (did you mean 'trigger'?): expressions read trigger, wait, repeat, device, now, last, last_json, automation",
      'a.yaml:13:28 steps.3.wait_for.condition: trigger.device is only set by state triggers; here trigger has trigger.topic, trigger.payload, trigger.json, trigger.retain, trigger.kind, trigger.scheduled, trigger.timestamp, trigger.catch_up (started by mqtt, at, the set command)',
    ])
  })

  it('reads what exists without complaint', () => {
    const text = `${HEAD}trigger:
  - state: { device: hall_bulb, to: "on" }
    condition: "trigger.state.brightness > 10 && trigger.from == 'off'"
  - sun: sunset
    condition: "trigger.event == 'sunset' && now.weekday == 'sat'"
steps:
  - log: "{{ trigger.device }} {{ trigger.kind }} {{ last['home/x'] }} {{ device.hall_bulb.color_temp }} {{ automation }}"
  - repeat:
      count: 2
      steps: [{ log: "{{ repeat.index }} {{ wait.payload }} {{ trigger.json.x }}" }]
`
    expect(problems(text)).toEqual([])
  })

  it('a trigger that is no kind names the kinds; a bad value of a kind names its field', () => {
    const text = `${HEAD}trigger:
  - mqt: home/a
  - topic: home/b
  - { at: "07:00", cron: "* * * * *" }
  - at: [ "07:00", 7 ]
  - cron: "0 7 * *"
  - sun: sunsett
  - state: { device: hall_bulb, to: dim }
steps: [{ wait: 1s }]
`
    expect(problems(text)).toEqual([
      "a.yaml:4:10 trigger.0.mqt: unknown trigger 'mqt': expected one of mqtt, at, cron, sun, state (did you mean 'mqtt'?)",
      "a.yaml:5:12 trigger.1.topic: unknown trigger 'topic': expected one of mqtt, at, cron, sun, state",
      'a.yaml:6:26 trigger.2.cron: a trigger is of one kind; found at and cron (make them two triggers)',
      'a.yaml:7:20 trigger.3.at.1: expected a time of day like "07:00" or "22:30:15" (24-hour, in quotes), got 7',
      'a.yaml:8:11 trigger.4.cron: bad cron pattern: expected 5 fields (minute hour day month weekday), or 6 with seconds first; got 4',
      'a.yaml:9:10 trigger.5.sun: expected one of sunrise, sunset, dawn, dusk, solar_noon',
      'a.yaml:10:37 trigger.6.state.to: expected on, off, unavailable (or a list of them), got "dim"',
    ])
  })

  it('an unclosed quote is reported where the string starts, not at the end of the file', () => {
    const text = `${HEAD}trigger:\n  - mqtt: home/a\n    payload: "ON\nsteps:\n  - set: { color: red }\n`
    expect(problems(text)).toEqual(['a.yaml:5:14 Missing closing "quote: the string that starts here is never closed'])
  })

  it('time windows and catch_up are checked too', () => {
    const text = `${HEAD}trigger: { mqtt: home/a }
stop:
  - at: "07:00"
    catch_up: 5m
steps:
  - if: { after: "25:00", weekday: [sat, funday] }
    then: [{ log: x }]
`
    expect(problems(text)).toEqual([
      'a.yaml:6:15 stop.0.catch_up: catch_up is for triggers: after a restart there is no run for a stop to end',
      'a.yaml:8:18 steps.0.if.after: expected a time of day like "07:00" or "22:30:15" (24-hour, in quotes), got "25:00"',
      'a.yaml:8:42 steps.0.if.weekday.1: unknown weekday "funday": use mon, tue, wed, thu, fri, sat, sun',
    ])
  })
})

describe('validation across files and the setting', () => {
  it('a sun trigger without a location is a problem that says what to set', () => {
    const sunny = `name: sunny\ndevices: bath_bulb\ntrigger:\n  - sun: sunset\nsteps: [{ set: { on: true } }]\n`
    const without = load({ 'sunny.yaml': sunny }, { checkLocation: true })
    expect(without.names).toEqual([])
    expect(without.problems).toEqual([
      'sunny.yaml:4:10 trigger.0.sun: a sun trigger needs the location: set location: { latitude, longitude } in config.yaml',
    ])
    expect(load({ 'sunny.yaml': sunny }, { checkLocation: true, location: { latitude: 1, longitude: 2 } })).toEqual({
      names: ['sunny'],
      problems: [],
      warnings: [],
    })
  })

  it('warns of one priority on a shared bulb, an unused wait_for topic, a state trigger nobody reports', () => {
    const devices: DeviceFacts[] = [
      { id: 'bath_bulb', adapter: 'kasa', poll: 0 },
      { id: 'hall_bulb', adapter: 'mqtt', topic: 'zigbee2mqtt/hall' },
    ]
    const result = load(
      {
        'a.yaml': `name: a\ndevices: [bath_bulb, hall_bulb]\npriority: 10\ntrigger: { mqtt: home/a }\nsteps:\n  - wait_for: { mqtt: home/dor }\n  - wait_for: { mqtt: home/b/+/state }\n  - wait_for: { mqtt: zigbee2mqtt/hall }\n  - wait_for: { mqtt: genlock/automation/b }\n`,
        'b.yaml': `name: b\ndevices: hall_bulb\npriority: 10\ntrigger:\n  - state: { device: bath_bulb, to: "on" }\n  - state: { device: hall_bulb, to: "on" }\nsteps:\n  - publish: { topic: "home/b/{{ trigger.device }}/state", payload: x }\n`,
        'c.yaml': `name: c\ndevices: bath_bulb\npriority: 20\ntrigger: { mqtt: home/door }\nsteps: [{ wait: 1s }]\n`,
      },
      { devices, baseTopic: 'genlock' },
    )
    expect(result.names).toEqual(['a', 'b', 'c'])
    expect(result.problems).toEqual([])
    expect(result.warnings).toEqual([
      "b.yaml:3:11 priority: 'a' (" +
        `${dir}/a.yaml) also has priority 10 and locks hall_bulb: neither can take the bulb from the other, so whichever starts second only waits; give one a higher priority`,
      "a.yaml:6:23 steps.0.wait_for.mqtt: nothing in the config publishes or triggers on 'home/dor' (no publish step, trigger, stop or device uses it): a typo? If something outside genlock publishes it, all is well",
      "b.yaml:5:22 trigger.0.state.device: 'bath_bulb' cannot report changes made outside genlock: it is a Kasa bulb with poll: off, so its state is never read; this trigger only sees genlock's own commands",
    ])
  })
})

import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readDeviceDirectory } from '../../src/devices/device-files.js'
import { createBulb, createSimulatedBulb, readDeviceFiles } from '../../src/devices/bulb-factory.js'
import { problemsOf } from '../support/config-problems.js'

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'genlock-devices-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

describe('device files', () => {
  it('reads the shipped examples, and every one runs on the simulator', async () => {
    const configs = readDeviceFiles('devices')
    expect(configs.map((config) => config.id)).toEqual(['bath_bulb', 'hall_bulb', 'kitchen_strip'])
    for (const config of configs) {
      // kitchen_strip drops 5 % of commands to show off retries; three drops in a row would fail this check
      // once in 8000 runs, so the check runs it without drops.
      const bulb = createBulb(config.adapter === 'sim' ? { ...config, failureRate: 0 } : config, {})
      await bulb.start()
      await expect(bulb.setColor('orange')).resolves.toMatchObject({ on: true })
      await bulb.stop()
    }
  })

  it('fills defaults and takes secrets from the environment', () => {
    const dir = folder({
      'bath.yaml': 'id: bath_bulb\nadapter: hue\nhost: 10.0.0.2\nusername: ${HUE_USERNAME}\nlight: 3\n',
    })
    const [config] = readDeviceFiles(dir, { HUE_USERNAME: 'secret-key' })
    expect(config).toMatchObject({
      id: 'bath_bulb',
      adapter: 'hue',
      username: 'secret-key',
      insecure: false,
      timeoutMs: 2000,
    })
    expect(config?.capabilities).toEqual({ dimmable: true, color: true, colorTemp: { min: 2000, max: 6500 } })
  })

  it("reads a Kasa bulb's poll interval as a duration, 5 s unless told, 'off' for never", () => {
    const dir = folder({
      'a.yaml': 'id: a\nadapter: kasa\nhost: 10.0.0.3\n',
      'b.yaml': 'id: b\nadapter: kasa\nhost: 10.0.0.4\npoll: 2s\n',
      'c.yaml': 'id: c\nadapter: kasa\nhost: 10.0.0.5\npoll: off\n',
    })
    expect(readDeviceFiles(dir, {}).map((config) => config.adapter === 'kasa' && config.poll)).toEqual([5000, 2000, 0])
    const bad = folder({ 'd.yaml': 'id: d\nadapter: kasa\nhost: 10.0.0.6\npoll: often\n' })
    expect(problemsOf(() => readDeviceFiles(bad, {}))).toEqual([
      `${join(bad, 'd.yaml')}:4:7 poll: must be a duration of at least 100ms, like '5s', or 'off'`,
    ])
  })

  it('lists every problem across all files with file:line:col and field', () => {
    const dir = folder({
      'a.yaml': 'id: lamp\nadapter: sim\n',
      'b.yaml': 'id: lamp\nadapter: sim\n',
      'c.yaml': 'id: porch\nadapter: zigbee\n',
      'd.yaml': 'id: bath\nadapter: kasa\nport: 99999\nbrightnes: 3\n',
      'e.yaml': 'id: hue1\nadapter: hue\nhost: 10.0.0.2\nusername: ${HUE_USERNAME}\nlight: 2\n',
      'f.yaml': 'id: [oops\n',
      'g.yaml': 'id: bad id\nadapter: sim\n',
    })
    const problems = problemsOf(() => readDeviceFiles(dir, {}))
    expect(problems).toEqual([
      `${join(dir, 'b.yaml')}:1:5 id: duplicate id 'lamp' (also used in ${join(dir, 'a.yaml')}:1:5); this file is left out`,
      `${join(dir, 'c.yaml')}:2:10 adapter: must be one of sim, hue, kasa, mqtt`,
      `${join(dir, 'd.yaml')}:1:1 host: is required`,
      expect.stringMatching(new RegExp(`^${join(dir, 'd.yaml')}:3:7 port: `)),
      `${join(dir, 'd.yaml')}:4:12 brightnes: unknown field 'brightnes'`,
      `${join(dir, 'e.yaml')}:4:11 username: environment variable HUE_USERNAME is not set`,
      expect.stringMatching(new RegExp(`^${join(dir, 'f.yaml')}:\\d+:\\d+ `)),
      `${join(dir, 'g.yaml')}:1:5 id: must be letters, digits, '_' or '-' (it is used in MQTT topics)`,
    ])
  })

  it('readDeviceDirectory returns the good files beside the problems of the others (what hot reload needs)', () => {
    const dir = folder({
      'a.yaml': 'id: lamp\nadapter: sim\n',
      'b.yaml': 'id: lamp\nadapter: sim\n',
      'c.yaml': 'id: porch\nadapter: sim\nlatencyMs: soon\n',
      'd.yaml': 'id: desk\nadapter: sim\n',
    })
    const { devices, problems } = readDeviceDirectory(dir, {})
    expect(devices.map((device) => [device.config.id, device.file])).toEqual([
      ['lamp', join(dir, 'a.yaml')],
      ['desk', join(dir, 'd.yaml')],
    ])
    expect(problems.map((problem) => `${problem.file}:${problem.line} ${problem.field}`)).toEqual([
      `${join(dir, 'b.yaml')}:1 id`,
      `${join(dir, 'c.yaml')}:3 latencyMs`,
    ])
    expect(readDeviceDirectory(join(dir, 'missing')).problems).toEqual([
      expect.objectContaining({
        file: join(dir, 'missing'),
        message: expect.stringMatching(/^cannot read the devices folder: ENOENT/),
      }),
    ])
  })

  it('a reload keeps the running device: a newcomer with its id is left out and named, even sorting first (issue 13.7)', () => {
    const dir = folder({
      'aaa.yaml': 'id: lamp\nadapter: sim\nname: Newcomer\n',
      'lamp.yaml': 'id: lamp\nadapter: sim\n',
      'desk.yaml': 'id: desk\nadapter: sim\nlatencyMs: soon\n',
      'zzz.yaml': 'id: desk\nadapter: sim\n',
    })
    const running = new Map([
      ['lamp', join(dir, 'lamp.yaml')],
      ['desk', join(dir, 'desk.yaml')],
    ])
    const { devices, problems } = readDeviceDirectory(dir, {}, running)
    expect(devices.map((device) => device.file)).toEqual([join(dir, 'lamp.yaml')])
    expect(problems.map((problem) => `${problem.file}:${problem.line} ${problem.message}`)).toEqual([
      `${join(dir, 'aaa.yaml')}:1 duplicate id 'lamp' (also used in ${join(dir, 'lamp.yaml')}:1:5); this file is left out`,
      expect.stringMatching(new RegExp(`^${join(dir, 'desk.yaml')}:3 `)),
      // desk.yaml is broken, so its running device keeps running: the newcomer does not take its id.
      `${join(dir, 'zzz.yaml')}:1 duplicate id 'desk' (also used in ${join(dir, 'desk.yaml')}, whose device keeps running); this file is left out`,
    ])
  })

  it('builds a simulated twin with the same identity and capabilities', () => {
    const dir = folder({
      'hall.yaml':
        'id: hall\nname: Hall\nadapter: kasa\nhost: 10.0.0.9\ncapabilities: { colorTemp: { min: 2700, max: 6500 } }\n',
    })
    const [config] = readDeviceFiles(dir)
    const twin = createSimulatedBulb(config!)
    expect([twin.id, twin.name, twin.adapter]).toEqual(['hall', 'Hall', 'sim'])
    expect(twin.capabilities).toEqual({ dimmable: true, color: false, colorTemp: { min: 2700, max: 6500 } })
  })
})

describe('createBulb', () => {
  it('builds the adapter each file names, and needs an MQTT link for mqtt lights', () => {
    const dir = folder({
      'a.yaml': 'id: a\nadapter: hue\nhost: 10.0.0.2\nusername: key\nlight: "3"\ninsecure: true\nport: 8080\n',
      'b.yaml': 'id: b\nadapter: kasa\nhost: 10.0.0.40\n',
      'c.yaml': 'id: c\nadapter: mqtt\ntopic: zigbee2mqtt/c\n',
    })
    const [hue, kasa, mqtt] = readDeviceFiles(dir)
    const link = { subscribe: () => () => {}, publish: async () => {} }
    expect(createBulb(hue!)).toMatchObject({ adapter: 'hue', description: 'a (hue 10.0.0.2:8080 light 3)' })
    expect(createBulb(kasa!)).toMatchObject({ adapter: 'kasa', description: 'b (kasa 10.0.0.40)' })
    expect(createBulb(mqtt!, { mqtt: link })).toMatchObject({ adapter: 'mqtt', description: 'c (mqtt zigbee2mqtt/c)' })
    expect(() => createBulb(mqtt!)).toThrow("c: adapter 'mqtt' needs an MQTT connection")
  })

  it('reports a missing or malformed mqtt topic by file, line and field', () => {
    const dir = folder({ 'm.yaml': 'id: m\nadapter: mqtt\n', 'n.yaml': 'id: n\nadapter: mqtt\ntopic: zigbee2mqtt/#\n' })
    expect(problemsOf(() => readDeviceFiles(dir))).toEqual([
      `${join(dir, 'm.yaml')}:1:1 topic: is required`,
      `${join(dir, 'n.yaml')}:3:8 topic: must be a plain topic without wildcards or a trailing '/'`,
    ])
  })
})

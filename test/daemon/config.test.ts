import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/config.js'
import { problemsOf } from '../support/config-problems.js'

function configDir(text: string, folders = ['devices', 'automations']): string {
  const dir = mkdtempSync(join(tmpdir(), 'genlock-config-'))
  for (const folder of folders) mkdirSync(join(dir, folder))
  writeFileSync(join(dir, 'config.yaml'), text)
  return join(dir, 'config.yaml')
}

describe('loadConfig', () => {
  it('fills defaults and resolves paths against the config folder', () => {
    const file = configDir('mqtt: { embedded: true }\n')
    const config = loadConfig(file)
    expect(config.mqtt).toMatchObject({ embedded: true, host: '127.0.0.1', port: 1883, baseTopic: 'genlock' })
    expect(config.devicesDir).toBe(join(file, '..', 'devices'))
    expect(config.automationsDir).toBe(join(file, '..', 'automations'))
    expect(config.locks).toEqual({ backend: 'memory' })
    expect(config.log).toEqual({ level: 'info', pretty: 'auto' })
    expect(config.dataDir).toBe(join(file, '..', 'data'))
  })

  it('takes data_dir relative to the config file, and refuses a file in its place', () => {
    const file = configDir('mqtt: { embedded: true }\ndata_dir: ./state\n')
    expect(loadConfig(file).dataDir).toBe(join(file, '..', 'state'))
    writeFileSync(join(file, '..', 'state'), 'not a folder')
    expect(problemsOf(() => loadConfig(file))).toEqual([
      expect.stringMatching(/config\.yaml:2:11 data_dir: .*state is a file, not a folder/),
    ])
  })

  it('takes an existing broker with credentials from the environment', () => {
    const file = configDir(
      [
        'mqtt:',
        '  url: mqtts://broker.local:8883',
        '  username: ${MQTT_USER}',
        '  password: ${MQTT_PASSWORD}',
        '  client_id: house',
        '  base_topic: home/genlock',
        'locks: { backend: redis, url: "redis://127.0.0.1:6379" }',
        'log: { level: debug, pretty: false }',
        '',
      ].join('\n'),
    )
    const config = loadConfig(file, { MQTT_USER: 'ha', MQTT_PASSWORD: 's3cret' })
    expect(config.mqtt).toMatchObject({
      embedded: false,
      url: 'mqtts://broker.local:8883',
      username: 'ha',
      password: 's3cret',
      clientId: 'house',
      baseTopic: 'home/genlock',
    })
    expect(config.locks).toEqual({ backend: 'redis', url: 'redis://127.0.0.1:6379', keyPrefix: 'genlock' })
  })

  it('names file, line, column and field for every problem', () => {
    const file = configDir(
      [
        'mqtt:',
        '  url: http://nope',
        '  embedded: true',
        'locks: { backend: etcd }',
        'log: { level: loud }',
        'extra: 1',
        '',
      ].join('\n'),
    )
    const problems = problemsOf(() => loadConfig(file))
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/config\.yaml:2:8 mqtt\.url: must be an mqtt:\/\//),
        expect.stringMatching(/config\.yaml:4:\d+ locks\.backend: /),
        expect.stringMatching(/config\.yaml:5:\d+ log\.level: /),
        expect.stringMatching(/config\.yaml:6:\d+ extra: unknown field 'extra'/),
      ]),
    )
  })

  it('rejects both url and embedded, and reports missing folders and certificate files', () => {
    expect(problemsOf(() => loadConfig(configDir('mqtt: { url: "mqtt://a:1", embedded: true }\n')))).toEqual([
      expect.stringMatching(/config\.yaml:1:7 mqtt: set either url .* or embedded: true/),
    ])
    const file = configDir('mqtt: { url: "mqtts://a:8883", ca: ./ca.pem }\nautomations: ./missing\n', ['devices'])
    expect(problemsOf(() => loadConfig(file))).toEqual([
      expect.stringMatching(/config\.yaml:2:14 automations: folder .*missing does not exist/),
      expect.stringMatching(/config\.yaml:1:\d+ mqtt\.ca: file .*ca\.pem does not exist/),
    ])
  })

  it('reports an unset environment variable where it is used', () => {
    const file = configDir('mqtt:\n  url: mqtt://a:1\n  password: ${NOPE_NOT_SET}\n')
    expect(problemsOf(() => loadConfig(file, {}))).toEqual([
      expect.stringMatching(/config\.yaml:3:13 mqtt\.password: environment variable NOPE_NOT_SET is not set/),
    ])
  })
})

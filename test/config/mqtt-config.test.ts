import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isLoopbackHost, loadConfig } from '../../src/config/config.js'
import { hashPassword } from '../../src/config/password-hash.js'
import { writeSetup } from '../cli/setup-files.js'
import { problemsOf } from '../support/config-problems.js'

const HASH = await hashPassword('for-home-assistant')

function load(config: string, env: NodeJS.ProcessEnv = {}) {
  const { configFile } = writeSetup({ config })
  return { configFile, load: () => loadConfig(configFile, env) }
}

describe('mqtt: the embedded broker stays on this machine unless it has logins', () => {
  it('listens on 127.0.0.1 without logins by default', () => {
    const config = load('mqtt: { embedded: true }\n').load()
    expect(config.mqtt).toMatchObject({ embedded: true, host: '127.0.0.1', broker: { logins: [] } })
  })

  it('refuses a host beyond loopback without genlock’s own login, at mqtt.host, saying what to do', () => {
    const { configFile, load: run } = load('mqtt:\n  embedded: true\n  host: 0.0.0.0\n')
    expect(problemsOf(run)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${configFile}:3:9 mqtt\\.host: 0\\.0\\.0\\.0 lets other machines reach the embedded broker, so it needs logins: set mqtt\\.username and mqtt\\.password .*genlock hash-password.*127\\.0\\.0\\.1$`,
        ),
      ),
    ])
  })

  it('takes an empty password for no login', () => {
    const { load: run } = load('mqtt:\n  embedded: true\n  host: 0.0.0.0\n  username: genlock\n  password: ""\n')
    expect(problemsOf(run)).toEqual([expect.stringMatching(/mqtt\.host: 0\.0\.0\.0 lets other machines reach/)])
  })

  it('accepts a host beyond loopback with genlock’s own login and hashed users; genlock’s login comes first', () => {
    const config = load(
      `mqtt:\n  embedded: true\n  host: 0.0.0.0\n  username: genlock\n  password: \${PW}\n  users:\n    - { username: homeassistant, password_hash: "${HASH}" }\n`,
      { PW: 'from-the-environment' },
    ).load()
    expect(config.mqtt).toMatchObject({
      embedded: true,
      host: '0.0.0.0',
      broker: {
        logins: [
          { username: 'genlock', password: 'from-the-environment' },
          { username: 'homeassistant', passwordHash: HASH },
        ],
      },
    })
  })

  it('turns logins on for loopback too once users are listed, and then wants genlock’s own login', () => {
    const { load: run } = load(`mqtt:\n  embedded: true\n  users:\n    - { username: ha, password_hash: "${HASH}" }\n`)
    expect(problemsOf(run)).toEqual([expect.stringMatching(/mqtt\.users: needs mqtt\.username and mqtt\.password too/)])
  })

  it('names a password where a hash belongs, and a user listed twice', () => {
    const { load: run } = load(
      `mqtt:\n  embedded: true\n  username: g\n  password: p\n  users:\n    - { username: ha, password_hash: hunter2 }\n`,
    )
    expect(problemsOf(run)).toEqual([
      expect.stringMatching(/:6:\d+ mqtt\.users\.0\.password_hash: must be a \$scrypt\$.* not a password$/),
    ])
    const twice = load(
      `mqtt:\n  embedded: true\n  username: g\n  password: p\n  users:\n    - { username: ha, password_hash: "${HASH}" }\n    - { username: ha, password_hash: "${HASH}" }\n`,
    )
    expect(problemsOf(twice.load)).toEqual([
      expect.stringMatching(/:7:\d+ mqtt\.users\.1\.username: 'ha' is listed twice$/),
    ])
  })

  it('takes the limits, and refuses them (and users) with an external broker', () => {
    const config = load(
      'mqtt: { embedded: true, max_packet_bytes: 4096, max_queued_messages: 10, max_retained_bytes: 1048576 }\n',
    ).load()
    expect(config.mqtt).toMatchObject({
      broker: { maxPacketBytes: 4096, maxQueuedMessages: 10, maxRetainedBytes: 1048576 },
    })
    const { load: run } = load(
      `mqtt:\n  url: mqtt://broker:1883\n  max_packet_bytes: 4096\n  users:\n    - { username: ha, password_hash: "${HASH}" }\n`,
    )
    expect(problemsOf(run)).toEqual([
      expect.stringMatching(/:5:\d+ mqtt\.users: is for the embedded broker \(embedded: true\)/),
      expect.stringMatching(/:3:\d+ mqtt\.max_packet_bytes: is for the embedded broker/),
    ])
  })
})

describe('mqtt: TLS files only where TLS is spoken (issue 13.12)', () => {
  it('refuses ca with an mqtt:// url, naming the field and what to do', () => {
    const { configFile, load: run } = load('mqtt:\n  url: mqtt://broker:1883\n  ca: ./ca.pem\n')
    writeFileSync(join(configFile, '../ca.pem'), 'PEM')
    expect(problemsOf(run)).toEqual([
      `${configFile}:3:7 mqtt.ca: is for TLS, but url is mqtt:// (no TLS): use an mqtts:// url, or remove it`,
    ])
  })

  it('refuses cert and key with the embedded broker', () => {
    const { load: run } = load('mqtt:\n  embedded: true\n  cert: ./c.pem\n  key: ./k.pem\n')
    expect(problemsOf(run)).toEqual([
      expect.stringMatching(
        /mqtt\.cert: is for connecting to an mqtts:\/\/ broker; the embedded broker does not speak TLS$/,
      ),
      expect.stringMatching(/mqtt\.key: is for connecting to an mqtts:\/\/ broker/),
    ])
  })

  it('accepts ca with an mqtts:// url', () => {
    const { configFile, load: run } = load('mqtt:\n  url: mqtts://broker:8883\n  ca: ./ca.pem\n')
    writeFileSync(join(configFile, '../ca.pem'), 'PEM')
    expect(run().mqtt).toMatchObject({ embedded: false, ca: join(configFile, '../ca.pem') })
  })
})

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.20', false],
    ['pi.local', false],
    ['127.0.0.1.example.com', false],
  ])('%s → %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback)
  })
})

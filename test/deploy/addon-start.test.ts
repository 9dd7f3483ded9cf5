import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import {
  addonConfig,
  CREDENTIAL_ENV,
  explainProblems,
  knownConfigKeys,
  writeConfigFile,
  type AddonConfigInput,
} from '../../src/cli/addon/genlock-config.js'
import { addonOptionsSchema, readAddonOptions } from '../../src/cli/addon/options.js'
import { lookupUser } from '../../src/cli/addon/privileges.js'
import { seedFolders } from '../../src/cli/addon/seed.js'
import { redact } from '../../src/cli/addon/start.js'
import { SupervisorClient, type MqttService } from '../../src/cli/addon/supervisor.js'
import { CliError, EXIT } from '../../src/cli/errors.js'
import { loadConfig } from '../../src/config/config.js'
import { ConfigError } from '../../src/config/problems.js'
import { freePort } from '../support/services.js'
import { ADDON_DIR, addonManifest, randomLogin, StandInSupervisor } from './addon-support.js'

const repo = join(import.meta.dirname, '../..')

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'genlock-addon-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A fresh folder under the test's temp dir. */
function folder(name: string): string {
  const path = join(dir, `${name}-${Math.random().toString(16).slice(2)}`)
  mkdirSync(path, { recursive: true })
  return path
}

/** The CliError `run` rejects with. */
async function failure(run: () => Promise<unknown>): Promise<CliError> {
  const error = await run().then(
    () => undefined,
    (error: unknown) => error,
  )
  expect(error).toBeInstanceOf(CliError)
  return error as CliError
}

describe('the Supervisor client, against a stand-in Supervisor', () => {
  const login = randomLogin()
  let supervisor: StandInSupervisor
  beforeAll(async () => {
    supervisor = await StandInSupervisor.start()
  })
  afterEach(() => {
    supervisor.mqtt = undefined
    supervisor.failWith = undefined
  })
  afterAll(() => supervisor.close())

  it("asks GET /services/mqtt with the add-on's token and returns the broker and its login", async () => {
    supervisor.mqtt = { host: 'core-mosquitto', port: 1883, ssl: false, protocol: '3.1.1', ...login }
    const from = supervisor.requests.length
    const service = await new SupervisorClient(supervisor.url, supervisor.token).mqttService()
    expect(service).toEqual({ host: 'core-mosquitto', port: 1883, ssl: false, protocol: '3.1.1', ...login })
    expect(supervisor.requests.slice(from)).toEqual([
      { method: 'GET', path: '/services/mqtt', authorization: `Bearer ${supervisor.token}` },
    ])
  })

  it("reads the ingress port from /addons/self/info, which reports config.yaml's ingress_port", async () => {
    const info = await new SupervisorClient(`${supervisor.url}/`, supervisor.token).addonInfo()
    expect(info).toEqual({ ingressPort: addonManifest().ingress_port })
  })

  it('without SUPERVISOR_TOKEN, says where the command runs and asks nothing', async () => {
    const from = supervisor.requests.length
    const error = await failure(() => new SupervisorClient(supervisor.url, undefined).mqttService())
    expect(error.message).toMatch(
      /^SUPERVISOR_TOKEN is not set\. genlock addon-start runs inside the Home Assistant add-on/,
    )
    expect(supervisor.requests.length).toBe(from)
  })

  it('a refused token (403 from the Supervisor) is an error that says to restart the add-on', async () => {
    supervisor.mqtt = { host: 'core-mosquitto', port: 1883, ...login }
    const error = await failure(() => new SupervisorClient(supervisor.url, 'not-the-token').mqttService())
    expect(error.message).toBe(
      `the Home Assistant Supervisor at ${supervisor.url} refused the add-on's token for /services/mqtt (HTTP 403). ` +
        'The Supervisor gives the add-on a new token at each start: restart the add-on.',
    )
    expect(error.exitCode).toBe(EXIT.unreachable)
  })

  it('a 401 is the same clear error', async () => {
    supervisor.failWith = 401
    const error = await failure(() => new SupervisorClient(supervisor.url, supervisor.token).mqttService())
    expect(error.message).toMatch(/refused the add-on's token for \/services\/mqtt \(HTTP 401\)/)
  })

  it('an unreachable Supervisor is an error naming the URL and the reason, exit code 2', async () => {
    const url = `http://127.0.0.1:${await freePort()}`
    const error = await failure(() => new SupervisorClient(url, 'token').mqttService())
    expect(error.message).toBe(
      `cannot reach the Home Assistant Supervisor at ${url} to ask for the MQTT service (ECONNREFUSED). ` +
        'The add-on asks it at every start; restart the add-on once the Supervisor is up.',
    )
    expect(error.exitCode).toBe(EXIT.unreachable)
  })

  it('no MQTT provider: passes on what the Supervisor said and tells which add-on to install', async () => {
    const error = await failure(() => new SupervisorClient(supervisor.url, supervisor.token).mqttService())
    expect(error.message).toBe(
      'the Home Assistant Supervisor has no answer for the MQTT service (HTTP 400: Service not enabled). ' +
        'Install and start the Mosquitto broker add-on (Settings → Add-ons → Add-on store), then restart genlock.',
    )
  })

  it('an answer of the wrong shape names the fields, never the values (the answer holds the password)', async () => {
    supervisor.mqtt = { host: 'core-mosquitto', port: '1883', ssl: 'no', ...login }
    const error = await failure(() => new SupervisorClient(supervisor.url, supervisor.token).mqttService())
    expect(error.message).toMatch(
      /answer to \/services\/mqtt is not what genlock expects \(port: invalid_type, ssl: invalid_type\)/,
    )
    expect(error.message).not.toContain(login.password)
    expect(error.message).not.toContain(login.username)
  })

  it('a Supervisor in trouble (HTTP 500, no JSON) is a clear error too', async () => {
    supervisor.failWith = 500
    const error = await failure(() => new SupervisorClient(supervisor.url, supervisor.token).addonInfo())
    expect(error.message).toBe(
      `the Home Assistant Supervisor at ${supervisor.url} answered /addons/self/info with HTTP 500 and no ` +
        'Supervisor JSON; restart the add-on, and report it if it stays.',
    )
  })
})

describe("the add-on's options.json", () => {
  it("reads the options the Supervisor wrote from config.yaml's defaults", () => {
    const file = join(folder('options'), 'options.json')
    writeFileSync(file, JSON.stringify(addonManifest().options))
    expect(readAddonOptions(file)).toEqual({
      base_topic: 'genlock',
      manual_priority: 100,
      manual_hold: '30m',
      log_level: 'info',
    })
  })

  it('a missing file or a wrong option is an error that names it', () => {
    const missing = join(folder('options'), 'options.json')
    expect(() => readAddonOptions(missing)).toThrow(
      `cannot read the add-on options ${missing} (ENOENT); the Supervisor writes it before each start: restart the add-on`,
    )
    const file = join(folder('options'), 'options.json')
    writeFileSync(file, JSON.stringify({ ...addonManifest().options, manual_priority: 'high', log_level: 'loud' }))
    expect(() => readAddonOptions(file)).toThrow(
      /^option manual_priority: .*; option log_level: .* \(in .*options\.json; fix it on the add-on's Configuration tab\)$/,
    )
  })
})

describe('the genlock config the add-on writes', () => {
  const login = randomLogin()
  const mqtt: MqttService = { host: 'core-mosquitto', port: 1883, ssl: false, protocol: '3.1.1', ...login }
  const options = { base_topic: 'home/genlock', manual_priority: 150, manual_hold: '10m', log_level: 'debug' } as const

  /** A config folder with devices/ and automations/, as the seed leaves it. */
  function input(overrides: Partial<AddonConfigInput> = {}): AddonConfigInput {
    const configDir = folder('config')
    mkdirSync(join(configDir, 'devices'))
    mkdirSync(join(configDir, 'automations'))
    return {
      options,
      mqtt,
      ingressPort: 8099,
      configDir,
      dataDir: join(folder('data'), 'genlock/data'),
      knownKeys: new Set(['mqtt', 'devices', 'automations', 'locks', 'homeassistant', 'log']),
      ...overrides,
    }
  }

  it("uses Home Assistant's broker with the login from the environment, and the options", () => {
    const given = input()
    const { document, notes } = addonConfig(given)
    expect(document).toEqual({
      mqtt: {
        url: 'mqtt://core-mosquitto:1883',
        username: '${GENLOCK_MQTT_USERNAME}',
        password: '${GENLOCK_MQTT_PASSWORD}',
        base_topic: 'home/genlock',
      },
      devices: `${given.configDir}/devices`,
      automations: `${given.configDir}/automations`,
      homeassistant: { discovery: true, manual_priority: 150 },
      log: { level: 'debug', pretty: true },
    })
    expect(notes).toEqual([
      'option manual_hold (10m) needs a genlock with manual holds; changes from Home Assistant are momentary',
      'this genlock has no dashboard yet: the sidebar panel stays empty',
    ])
  })

  it('writes the keys a newer genlock knows: manual priority and hold, the dashboard on the ingress port, data_dir', () => {
    const given = input({
      ingressPort: 8123,
      knownKeys: new Set([...input().knownKeys, 'manual', 'http', 'data_dir']),
    })
    const { document, notes } = addonConfig(given)
    expect(document.manual).toEqual({ priority: 150, hold: '10m' })
    expect(document.homeassistant).toEqual({ discovery: true })
    expect(document.http).toEqual({ port: 8123, host: '0.0.0.0', ingress_proxy: '172.30.32.2' })
    expect(document.data_dir).toBe(given.dataDir)
    expect(notes).toEqual([])
    const momentary = addonConfig({ ...given, options: { ...options, manual_hold: '0' } }).document
    expect(momentary.manual).toEqual({ priority: 150, hold: 0 })
  })

  it('TLS, an IPv6 broker, a broker without login and an MQTT 3.1 broker', () => {
    const tls = addonConfig(input({ mqtt: { ...mqtt, ssl: true, port: 8883 } })).document.mqtt
    expect(tls).toMatchObject({ url: 'mqtts://core-mosquitto:8883' })
    const v6 = addonConfig(input({ mqtt: { ...mqtt, host: 'fd00::1' } })).document.mqtt
    expect(v6).toMatchObject({ url: 'mqtt://[fd00::1]:1883' })
    const anonymous = addonConfig(input({ mqtt: { host: 'broker', port: 1883, ssl: false, protocol: '3.1.1' } }))
    expect(anonymous.document.mqtt).toEqual({ url: 'mqtt://broker:1883', base_topic: 'home/genlock' })
    const old = addonConfig(input({ mqtt: { ...mqtt, protocol: '3.1' } }))
    expect(old.notes).toContain(
      'the broker announces MQTT 3.1; genlock speaks 3.1.1, which the Mosquitto add-on accepts',
    )
  })

  it('is a config this genlock loads, with the login only in the environment, never in the file', () => {
    const given = input({ knownKeys: knownConfigKeys() })
    const file = join(folder('genlock'), 'config.yaml')
    writeConfigFile(file, addonConfig(given).document)
    const text = readFileSync(file, 'utf8')
    expect(text).toMatch(/^# Written by the genlock add-on at every start/)
    expect(text).not.toContain(login.password)
    expect(text).not.toContain(login.username)
    const env = { [CREDENTIAL_ENV.username]: login.username, [CREDENTIAL_ENV.password]: login.password }
    const config = loadConfig(file, env)
    expect(config.mqtt).toMatchObject({ embedded: false, url: 'mqtt://core-mosquitto:1883', baseTopic: 'home/genlock' })
    expect(config.mqtt.username).toBe(login.username)
    expect(config.mqtt.password).toBe(login.password)
    expect(config.homeassistant.discovery).toBe(true)
    expect(config.devicesDir).toBe(join(given.configDir, 'devices'))
    expect(config.log).toEqual({ level: 'debug', pretty: true })
    // Beyond loopback without a token: loadable only because the ingress proxy is the one peer answered.
    expect(config.http).toEqual({
      port: 8099,
      host: '0.0.0.0',
      token: undefined,
      ingressProxy: '172.30.32.2',
      metrics: false,
    })
    expect(readdirSync(join(file, '..'))).toEqual(['config.yaml'])
  })

  it("a config problem that comes from an option names the option; anything else says it is the add-on's fault", () => {
    const problemsWith = (given: AddonConfigInput): string[] => {
      const file = join(folder('genlock'), 'config.yaml')
      writeConfigFile(file, addonConfig(given).document)
      try {
        loadConfig(file, { [CREDENTIAL_ENV.username]: 'u', [CREDENTIAL_ENV.password]: 'p' })
      } catch (error) {
        return explainProblems((error as ConfigError).problems).split('\n')
      }
      return []
    }
    expect(problemsWith(input({ options: { ...options, base_topic: 'home/#' } }))).toEqual([
      "option base_topic: must not contain the wildcards + or # (fix it on the add-on's Configuration tab)",
    ])
    const noDevices = input()
    rmSync(join(noDevices.configDir, 'devices'), { recursive: true })
    expect(problemsWith(noDevices)).toEqual([
      expect.stringMatching(
        /config\.yaml:\d+:\d+ devices: folder .*\/devices does not exist \(the add-on wrote this; please report it\)$/,
      ),
    ])
  })
})

describe('seeding the config folder', () => {
  const seed = join(ADDON_DIR, 'seed')
  const seedFiles = (sub: string) => readdirSync(join(seed, sub)).sort()

  it('the first start copies the example devices and automations', () => {
    const config = folder('config')
    expect(seedFolders(seed, config)).toEqual(['automations', 'devices'])
    for (const sub of ['devices', 'automations']) {
      expect(readdirSync(join(config, sub)).sort()).toEqual(seedFiles(sub))
      for (const name of seedFiles(sub)) {
        expect(readFileSync(join(config, sub, name), 'utf8')).toBe(readFileSync(join(seed, sub, name), 'utf8'))
      }
    }
  })

  it("never overwrites the user's files, and examples the user deleted stay deleted", () => {
    const config = folder('config')
    seedFolders(seed, config)
    const party = join(config, 'automations/party.yaml')
    writeFileSync(party, 'name: party\n# mine now\n')
    rmSync(join(config, 'automations/alarm.yaml'))
    rmSync(join(config, 'devices'), { recursive: true })
    mkdirSync(join(config, 'devices'))
    writeFileSync(join(config, 'devices/hall.yaml'), 'id: hall\nadapter: sim\n')

    expect(seedFolders(seed, config)).toEqual([])
    expect(readFileSync(party, 'utf8')).toBe('name: party\n# mine now\n')
    expect(readdirSync(join(config, 'automations'))).toEqual(['party.yaml'])
    expect(readdirSync(join(config, 'devices'))).toEqual(['hall.yaml'])
  })

  it('seeds only the folders that are missing', () => {
    const config = folder('config')
    mkdirSync(join(config, 'devices'))
    expect(seedFolders(seed, config)).toEqual(['automations'])
    expect(readdirSync(join(config, 'devices'))).toEqual([])
  })
})

describe('the add-on folder', () => {
  const manifest = addonManifest()
  const translations = parse(readFileSync(join(ADDON_DIR, 'translations/en.yaml'), 'utf8')) as {
    configuration: Record<string, { name: string; description: string }>
  }

  it('is the only add-on in its repository: the Supervisor takes every config.* below repository.yaml for one', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
      )
    const root = join(ADDON_DIR, '..')
    expect(parse(readFileSync(join(root, 'repository.yaml'), 'utf8'))).toMatchObject({ name: expect.any(String) })
    const configs = files(root).filter((file) => /^config\./.test(file.split('/').at(-1)!))
    expect(configs).toEqual([join(ADDON_DIR, 'config.yaml')])
  })

  it('is an add-on for aarch64 and amd64 (what Node 26 is built for) that needs MQTT, with an ingress sidebar panel', () => {
    expect(manifest.arch).toEqual(['aarch64', 'amd64'])
    expect(manifest.services).toEqual(['mqtt:need'])
    expect(manifest.ingress).toBe(true)
    expect(manifest.ingress_port).toBe(8099)
    expect(manifest.panel_icon).toMatch(/^mdi:[a-z-]+$/)
    expect(manifest.panel_title).toBe('genlock')
    expect(manifest.map).toEqual([{ type: 'addon_config', read_only: false }])
    // Least privilege: the two Supervisor calls are open to every add-on token, and no port is published.
    for (const key of ['hassio_api', 'homeassistant_api', 'ports', 'host_network', 'privileged', 'full_access'])
      expect(manifest).not.toHaveProperty(key)
  })

  it('installs the genlock release of its own version (0.1.0-2 installs genlock 0.1.0)', () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }
    expect(manifest.version.replace(/-\d+$/, '')).toBe(pkg.version)
    const dockerfile = readFileSync(join(ADDON_DIR, 'Dockerfile'), 'utf8')
    expect(dockerfile).toMatch(/^ARG BUILD_VERSION=(.+)$/m)
    expect(/^ARG BUILD_VERSION=(.+)$/m.exec(dockerfile)![1]).toBe(manifest.version)
  })

  it('has the same options, schema and translations, and its defaults are valid add-on options', () => {
    const keys = Object.keys(addonOptionsSchema.shape).sort()
    expect(Object.keys(manifest.options).sort()).toEqual(keys)
    expect(Object.keys(manifest.schema).sort()).toEqual(keys)
    expect(Object.keys(translations.configuration).sort()).toEqual(keys)
    expect(addonOptionsSchema.safeParse(manifest.options).success).toBe(true)
  })

  it("the schema's patterns let through what genlock accepts and stop what it rejects", () => {
    const pattern = (key: string) => {
      const match = /^match\((.*)\)$/.exec(manifest.schema[key]!)
      expect(match, `${key} is a match() pattern`).not.toBeNull()
      return new RegExp(match![1]!)
    }
    const topic = pattern('base_topic')
    for (const good of ['genlock', 'home/genlock', 'a', 'lights 2']) expect(topic.test(good), good).toBe(true)
    for (const bad of ['', '/genlock', 'genlock/', 'home/#', 'a+b', '#']) expect(topic.test(bad), bad).toBe(false)
    const hold = pattern('manual_hold')
    for (const good of ['0', '30m', '1.5h', '500ms', '45s']) expect(hold.test(good), good).toBe(true)
    for (const bad of ['', '30', 'forever', '-1m', '1d']) expect(hold.test(bad), bad).toBe(false)
    expect(manifest.schema.log_level).toBe('list(fatal|error|warn|info|debug|trace)')
    expect(addonOptionsSchema.shape.log_level.options).toEqual(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
  })

  it("the image starts addon-start on the Supervisor's mounts, with the seed it copies, as user node", () => {
    const dockerfile = readFileSync(join(ADDON_DIR, 'Dockerfile'), 'utf8')
    const cmd = JSON.parse(/^CMD (.+)$/m.exec(dockerfile)![1]!) as string[]
    expect(cmd).toEqual([
      'addon-start',
      '--data-dir',
      '/data',
      '--config-dir',
      '/config',
      '--seed-dir',
      '/opt/genlock/seed',
      '--user',
      'node',
    ])
    expect(dockerfile).toMatch(/^COPY seed seed$/m)
    expect(dockerfile).toMatch(/^WORKDIR \/opt\/genlock$/m)
    expect(dockerfile).not.toMatch(/^USER /m)
  })
})

describe("looking up the daemon's user", () => {
  it('reads uid and gid from the passwd file, and names a missing user', () => {
    const passwd = join(folder('etc'), 'passwd')
    writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n')
    expect(lookupUser('node', passwd)).toEqual({ name: 'node', uid: 1000, gid: 1000 })
    expect(() => lookupUser('genlock', passwd)).toThrow(`there is no user 'genlock' in ${passwd} to run the daemon as`)
  })
})

describe('redacting the login from an error', () => {
  it('replaces every occurrence of each secret, and leaves the text alone without secrets', () => {
    const message = "MQTT broker mqtt://core-mosquitto:1883 refused user 'addons' (addons, s3cret)"
    expect(redact(message, ['addons', 's3cret'])).toBe(
      "MQTT broker mqtt://core-mosquitto:1883 refused user '***' (***, ***)",
    )
    expect(redact(message, [undefined, ''])).toBe(message)
  })
})

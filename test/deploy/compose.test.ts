import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadConfig } from '../../src/config/config.js'
import { RawMqtt } from '../mqtt/raw-mqtt.js'
import { freePort, ServiceProcess } from '../support/services.js'

const repo = join(import.meta.dirname, '../..')

interface Compose {
  services: Record<
    string,
    {
      image?: string
      volumes?: string[]
      ports?: string[]
      environment?: Record<string, string>
      healthcheck?: { test: string[] }
      configs?: { source: string; target: string }[]
    }
  >
  configs: Record<string, { content: string }>
}

const compose = parse(readFileSync(join(repo, 'compose.example.yaml'), 'utf8')) as Compose
const scratch = mkdtempSync(join(tmpdir(), 'genlock-compose-'))

afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/**
 * The inline config mounted at `target` in `service`, as compose hands it over: `$$` is compose's escape for a
 * literal `$`; a bare `${...}` would be filled from compose's own environment, which no inline config here wants.
 */
function mountedConfig(service: string, target: string): string {
  const mount = compose.services[service]?.configs?.find((config) => config.target === target)
  expect(mount, `${service} mounts a config at ${target}`).toBeDefined()
  const content = compose.configs[mount!.source]!.content
  expect(content.replace(/\$\$/g, '')).not.toMatch(/\$\{/)
  return content.replace(/\$\$/g, '$')
}

/** mosquitto.conf's listeners: port, bind address, and the settings that follow each `listener` line. */
function listeners(conf: string): { port: number; bind?: string; settings: Map<string, string> }[] {
  const found: { port: number; bind?: string; settings: Map<string, string> }[] = []
  for (const line of conf.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue
    const [key, ...rest] = line.split(/\s+/)
    if (key === 'listener') found.push({ port: Number(rest[0]), bind: rest[1], settings: new Map() })
    else found.at(-1)?.settings.set(key!, rest.join(' '))
  }
  return found
}

const mosquittoConf = () => mountedConfig('mosquitto', '/mosquitto/config/mosquitto.conf')

describe('compose.example.yaml', () => {
  it('runs genlock beside mosquitto and redis, with /config as a volume', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['genlock', 'mosquitto', 'redis'])
    expect(compose.services.genlock?.volumes).toContain('genlock-config:/config')
  })

  it("gives genlock a config.yaml that validates and logs in to the compose file's own broker", () => {
    cpSync(join(repo, 'devices'), join(scratch, 'devices'), { recursive: true })
    cpSync(join(repo, 'automations'), join(scratch, 'automations'), { recursive: true })
    writeFileSync(join(scratch, 'config.yaml'), mountedConfig('genlock', '/config/config.yaml'))
    const config = loadConfig(join(scratch, 'config.yaml'), { GENLOCK_MQTT_PASSWORD: 'from-dot-env' })
    expect(config.mqtt).toMatchObject({
      embedded: false,
      url: 'mqtt://mosquitto:1883',
      username: 'genlock',
      password: 'from-dot-env',
    })
    expect(config.locks).toMatchObject({ backend: 'redis', url: 'redis://redis:6379' })
    // Compose refuses to start without the password rather than hand genlock an empty one.
    expect(compose.services.genlock?.environment?.GENLOCK_MQTT_PASSWORD).toMatch(/^\$\{GENLOCK_MQTT_PASSWORD:\?.+\}$/)
  })

  it('lets no anonymous client in on a port it publishes; its anonymous listener is loopback-only', () => {
    const published = (compose.services.mosquitto?.ports ?? []).map((mapping) => Number(mapping.split(':').at(-1)))
    expect(published).toEqual([1883])
    const all = listeners(mosquittoConf())
    expect(mosquittoConf()).toMatch(/^per_listener_settings true$/m)
    expect(mosquittoConf()).toMatch(/^set_tcp_nodelay true$/m)
    for (const port of published) {
      const listener = all.find((l) => l.port === port)
      expect(listener?.settings.get('allow_anonymous'), `listener ${port}`).toBe('false')
      expect(listener?.settings.get('password_file'), `listener ${port}`).toMatch(/^\/mosquitto\/data\//)
    }
    for (const listener of all.filter((l) => l.settings.get('allow_anonymous') === 'true')) {
      expect(listener.bind).toBe('127.0.0.1')
      expect(published).not.toContain(listener.port)
    }
    const health = compose.services.mosquitto?.healthcheck?.test.join(' ')
    const anonymousPort = all.find((l) => l.settings.get('allow_anonymous') === 'true')?.port
    expect(health).toContain(`-h 127.0.0.1 -p ${anonymousPort}`)
  })

  it('gives mosquitto a config that a real mosquitto runs: logins on the published listener, none on loopback', async () => {
    const [published, local] = await Promise.all([freePort(), freePort()])
    const passwd = join(scratch, 'passwd')
    execFileSync('mosquitto_passwd', ['-c', '-b', passwd, 'genlock', 'compose-secret'])
    const mosquitto = new ServiceProcess(
      'mosquitto-compose',
      published,
      'mosquitto',
      (dir) => {
        const file = join(dir, 'mosquitto.conf')
        const conf = mosquittoConf()
          .replace(/^listener 1883$/m, `listener ${published} 127.0.0.1`)
          .replace(/^listener 1884 127\.0\.0\.1$/m, `listener ${local} 127.0.0.1`)
          .replace(/^password_file .*$/m, `password_file ${passwd}`)
          .replace(/^persistence_location .*$/m, `persistence_location ${dir}/`)
        writeFileSync(file, `${conf}${process.getuid?.() === 0 ? 'user root\n' : ''}log_dest stderr\nlog_type all\n`)
        return ['-c', file]
      },
      /mosquitto version .* running/,
    )
    try {
      await mosquitto.start()
      const login = async (port: number, options: { username?: string; password?: string } = {}) => {
        const raw = await RawMqtt.open(port)
        try {
          return await raw.login(`compose-${Math.random().toString(16).slice(2)}`, options)
        } finally {
          raw.destroy()
        }
      }
      expect(await login(published)).toBe(5)
      expect(await login(published, { username: 'genlock', password: 'wrong' })).toBe(5)
      expect(await login(published, { username: 'genlock', password: 'compose-secret' })).toBe(0)
      expect(await login(local)).toBe(0)
      // The health check, as compose runs it (CMD form; `$$` is compose's escape for `$`), on the local listener.
      const [, command, ...args] = compose.services.mosquitto!.healthcheck!.test.map((word) =>
        word.replace(/\$\$/g, '$').replace(/^1884$/, String(local)),
      )
      expect(() => execFileSync(command!, args, { stdio: 'pipe' })).not.toThrow()
    } finally {
      await mosquitto.dispose()
    }
  })
})

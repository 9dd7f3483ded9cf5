import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadConfig } from '../../src/config/config.js'
import { freePort, ServiceProcess } from '../support/services.js'

const repo = join(import.meta.dirname, '../..')

interface Compose {
  services: Record<string, { image?: string; volumes?: string[]; configs?: { source: string; target: string }[] }>
  configs: Record<string, { content: string }>
}

const compose = parse(readFileSync(join(repo, 'compose.example.yaml'), 'utf8')) as Compose
const scratch = mkdtempSync(join(tmpdir(), 'genlock-compose-'))

afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** The inline config mounted at `target` in `service`. */
function mountedConfig(service: string, target: string): string {
  const mount = compose.services[service]?.configs?.find((config) => config.target === target)
  expect(mount, `${service} mounts a config at ${target}`).toBeDefined()
  return compose.configs[mount!.source]!.content
}

describe('compose.example.yaml', () => {
  it('runs genlock beside mosquitto and redis, with /config as a volume', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['genlock', 'mosquitto', 'redis'])
    expect(compose.services.genlock?.volumes).toContain('genlock-config:/config')
  })

  it("gives genlock a config.yaml that validates and points at the compose file's own broker and redis", () => {
    cpSync(join(repo, 'devices'), join(scratch, 'devices'), { recursive: true })
    cpSync(join(repo, 'automations'), join(scratch, 'automations'), { recursive: true })
    writeFileSync(join(scratch, 'config.yaml'), mountedConfig('genlock', '/config/config.yaml'))
    const config = loadConfig(join(scratch, 'config.yaml'), {})
    expect(config.mqtt).toMatchObject({ embedded: false, url: 'mqtt://mosquitto:1883' })
    expect(config.locks).toMatchObject({ backend: 'redis', url: 'redis://redis:6379' })
  })

  it('gives mosquitto a config that a real mosquitto starts with', async () => {
    const port = await freePort()
    const conf = mountedConfig('mosquitto', '/mosquitto/config/mosquitto.conf')
    expect(conf).toMatch(/^listener 1883$/m)
    const mosquitto = new ServiceProcess(
      'mosquitto-compose',
      port,
      'mosquitto',
      (dir) => {
        const file = join(dir, 'mosquitto.conf')
        const local = conf
          .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
          .replace(/^persistence_location .*$/m, `persistence_location ${dir}/`)
        writeFileSync(file, `${local}log_dest stderr\nlog_type all\n`)
        return ['-c', file]
      },
      /mosquitto version .* running/,
    )
    try {
      await mosquitto.start()
      expect(mosquitto.running).toBe(true)
    } finally {
      await mosquitto.dispose()
    }
  })
})

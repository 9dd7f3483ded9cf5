import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isLoopbackHost, loadConfig } from '../../src/config/config.js'
import { hashPassword } from '../../src/config/password-hash.js'
import { problemsOf } from '../support/config-problems.js'

const repo = join(import.meta.dirname, '../..')
const shipped = readFileSync(join(repo, 'deploy/docker/config.yaml'), 'utf8')
const scratch = mkdtempSync(join(tmpdir(), 'genlock-docker-config-'))
cpSync(join(repo, 'devices'), join(scratch, 'devices'), { recursive: true })
cpSync(join(repo, 'automations'), join(scratch, 'automations'), { recursive: true })
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

function load(text: string, env: NodeJS.ProcessEnv = {}) {
  const file = join(scratch, 'config.yaml')
  writeFileSync(file, text)
  return () => loadConfig(file, env)
}

/** The config with its commented "reach it from your LAN" lines switched on (and the host they replace off). */
function opened(hash: string): string {
  return shipped
    .replace(/^ {2}host: 127\.0\.0\.1\n/m, '')
    .replace(/^ {2}# {3}(.*)$/gm, '  $1')
    .replace('"$scrypt$ln=14,r=8,p=1$..."', `"${hash}"`)
}

describe("the image's default config (deploy/docker/config.yaml)", () => {
  it('runs the embedded broker on the container’s loopback, without logins', () => {
    const config = load(shipped)()
    expect(config.mqtt).toMatchObject({ embedded: true, port: 1883, broker: { logins: [] } })
    expect(config.mqtt.embedded && isLoopbackHost(config.mqtt.host)).toBe(true)
  })

  it('opened to the LAN as its comments say, it has genlock’s login and a hashed user', async () => {
    const hash = await hashPassword('ha-secret')
    const config = load(opened(hash), { GENLOCK_MQTT_PASSWORD: 'from-docker-run-e' })()
    expect(config.mqtt).toMatchObject({
      embedded: true,
      host: '0.0.0.0',
      broker: {
        logins: [
          { username: 'genlock', password: 'from-docker-run-e' },
          { username: 'homeassistant', passwordHash: hash },
        ],
      },
    })
  })

  it('opened without the password in the environment, it does not start, and says which variable', async () => {
    const lines = problemsOf(load(opened(await hashPassword('x'))))
    expect(lines).toEqual([
      expect.stringMatching(/mqtt\.password: environment variable GENLOCK_MQTT_PASSWORD is not set$/),
    ])
  })
})

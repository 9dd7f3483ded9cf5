/**
 * Issue 13.2 through the built package, where it was seen: the embedded broker beyond loopback needs logins (and
 * genlock's own client, health and status log in), and a 100 MB publish is refused without the memory it took.
 */
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PARTY, simBulb, writeSetup } from '../cli/setup-files.js'
import { builtCli, residentBytes, runBuilt, startBuiltDaemon } from '../support/built-genlock.js'
import { freePort } from '../support/services.js'
import { Observer } from './observer.js'
import { floodPublish, RawMqtt } from './raw-mqtt.js'

beforeAll(() => builtCli(), 180_000)

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function setup(mqtt: string) {
  const made = writeSetup({
    config: `mqtt:\n${mqtt}log: { level: info, pretty: false }\n`,
    devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
    automations: { 'party.yaml': PARTY },
  })
  dirs.push(made.dir)
  return made
}

describe('the embedded broker of the built genlock', () => {
  it('will not listen beyond loopback without logins: validate and run say what to do, and run exits 1', async () => {
    const port = await freePort()
    const { configFile } = setup(`  embedded: true\n  host: 0.0.0.0\n  port: ${port}\n`)
    const validate = await runBuilt(['validate', '--config', configFile])
    expect(validate.stderr).toMatch(
      new RegExp(
        `^${configFile}:3:9 mqtt\\.host: 0\\.0\\.0\\.0 lets other machines reach the embedded broker, so it needs logins`,
        'm',
      ),
    )
    expect(validate.code).toBe(1)
    const run = await startBuiltDaemon(configFile)
    const exit = await run.exited
    expect(run.stderr).toMatch(/mqtt\.host: 0\.0\.0\.0 lets other machines reach the embedded broker/)
    expect(exit.code).toBe(1)
  }, 60_000)

  it('with logins: anonymous and wrong logins are refused; genlock, health, status and a hashed user log in', async () => {
    const hashed = await runBuilt(['hash-password'], { input: 'ha-secret\n' })
    expect(hashed.code).toBe(0)
    const hash = hashed.stdout.trim()
    expect(hash).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$/)
    const port = await freePort()
    const { configFile } = setup(
      [
        '  embedded: true',
        '  host: 0.0.0.0',
        `  port: ${port}`,
        '  username: genlock',
        '  password: ${GENLOCK_MQTT_PASSWORD}',
        '  users:',
        `    - { username: homeassistant, password_hash: "${hash}" }`,
        '',
      ].join('\n'),
    )
    const env = { GENLOCK_MQTT_PASSWORD: 'genlock-secret' }
    const daemon = await startBuiltDaemon(configFile, env)
    let ha: Observer | undefined
    try {
      await daemon.ready()
      const anonymous = await RawMqtt.open(port)
      expect(await anonymous.login('intruder')).toBe(5)
      await anonymous.closed
      const guess = await RawMqtt.open(port)
      expect(await guess.login('intruder', { username: 'homeassistant', password: 'guess' })).toBe(4)
      await guess.closed

      ha = await Observer.connect(`mqtt://homeassistant:ha-secret@127.0.0.1:${port}`, ['genlock/#'])
      await ha.waitForPayload('genlock/status', 'online')
      const health = await runBuilt(['health', '--config', configFile], { env })
      expect(health.stdout).toMatch(/^ok +daemon +genlock\/status is online$/m)
      expect(health.code).toBe(0)
      const status = await runBuilt(['status', '--config', configFile], { env })
      expect(status.stdout).toMatch(/^bath_bulb +sim /m)
      expect(status.code).toBe(0)
      const refused = daemon.logs.filter((entry) => /mqtt (login|client without).*refused/.test(entry.msg))
      expect(refused).toHaveLength(2)
      expect(JSON.stringify(daemon.logs)).not.toMatch(/ha-secret|genlock-secret|"guess"/)
    } finally {
      await ha?.close()
      await daemon.stop()
    }
  }, 90_000)

  it('refuses four 100 MB publishes as soon as their headers arrive, and its memory does not grow', async () => {
    const port = await freePort()
    const { configFile } = setup(`  embedded: true\n  port: ${port}\n`)
    const daemon = await startBuiltDaemon(configFile)
    try {
      await daemon.ready()
      const before = residentBytes(daemon.child.pid!)
      for (let i = 0; i < 4; i++) {
        const { complete } = await floodPublish(port, 100 * 1024 * 1024, `flood${i}`)
        expect(complete).toBe(false)
      }
      await daemon.waitForLog(
        (entry) => entry.msg === 'mqtt client sent a packet over mqtt.max_packet_bytes; disconnected',
      )
      const after = residentBytes(daemon.child.pid!)
      // Before the limit, each of these publishes was buffered whole: +387 MB for four. A few MB of socket
      // buffers and JIT output may come and go; 40 MB is far from both.
      expect(after - before).toBeLessThan(40 * 1024 * 1024)
      const health = await runBuilt(['health', '--config', configFile])
      expect(health.code).toBe(0)
    } finally {
      await daemon.stop()
    }
  }, 120_000)
})

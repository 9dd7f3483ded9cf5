/**
 * Issue 13.6, through the built package: no secret from the config (a URL's password, a password field, the Redis
 * password) reaches any output — the daemon's log, validate, status, health, trigger, simulate.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeSetup } from '../cli/setup-files.js'
import { builtCli, runBuilt, spawnBuilt, startBuiltDaemon } from '../support/built-genlock.js'
import { freePort, ServiceProcess, startMosquitto } from '../support/services.js'

const MQTT_SECRET = 'MqttUrlS3cret'
const MQTT_FIELD_SECRET = 'MqttFieldS3cret'
const REDIS_SECRET = 'RedisS3cret'
const SECRETS = [MQTT_SECRET, MQTT_FIELD_SECRET, REDIS_SECRET]

let mosquitto: Awaited<ReturnType<typeof startMosquitto>>
let redis: ServiceProcess
const dirs: string[] = []

beforeAll(async () => {
  const port = await freePort()
  // A Redis that wants a password the config gets wrong: ioredis then attaches `HELLO 3 AUTH default <password>`
  // to the error it reports.
  redis = new ServiceProcess(
    'redis-auth',
    port,
    'redis-server',
    (dir) => [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--requirepass',
      'the-right-one',
      '--dir',
      dir,
    ],
    /Ready to accept connections/,
  )
  ;[mosquitto] = await Promise.all([startMosquitto(), redis.start(), builtCli()])
}, 180_000)

afterAll(async () => {
  await Promise.all([mosquitto?.dispose(), redis?.dispose()])
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** The mosquitto URL with a username and password in it (mosquitto without a password file ignores them). */
const secretUrl = () => mosquitto.url.replace('mqtt://', `mqtt://genlock:${MQTT_SECRET}@`)

function expectNoSecret(output: string): void {
  for (const secret of SECRETS) expect(output).not.toContain(secret)
}

function setup(baseTopic: string) {
  const made = writeSetup({
    config: [
      `mqtt: { url: "${secretUrl()}", username: genlock, password: ${MQTT_FIELD_SECRET}, base_topic: ${baseTopic}, client_id: ${baseTopic} }`,
      `locks: { backend: redis, url: "redis://default:${REDIS_SECRET}@127.0.0.1:${redis.port}" }`,
      'log: { level: debug, pretty: false }',
      '',
    ].join('\n'),
    devices: { 'bath_bulb.yaml': 'id: bath_bulb\nadapter: sim\n' },
    automations: {
      'lamp.yaml': `name: lamp\ndevices: [bath_bulb]\ntrigger:\n  - mqtt: ${baseTopic}-home/lamp\nsteps:\n  - set: { on: true }\n`,
    },
  })
  dirs.push(made.dir)
  return made
}

describe('secrets never reach the output of the built genlock', () => {
  it('daemon log: a failed Redis AUTH names the command but not its arguments; URLs are redacted', async () => {
    const { configFile } = setup('redact_daemon')
    const daemon = await startBuiltDaemon(configFile)
    try {
      await daemon.ready()
      const from = daemon.mark
      const publish = await runBuilt(['trigger', 'lamp', 'on', '--config', configFile])
      expect(publish.code).toBe(0)
      const failure = await daemon.waitForLog(
        (entry) => (entry.err as { command?: unknown } | undefined)?.command !== undefined,
        from,
      )
      expect(failure.err).toMatchObject({ message: expect.stringMatching(/WRONGPASS/), command: { name: 'hello' } })
      expect(daemon.logs.find((entry) => entry.msg === 'mqtt connecting')?.url).toMatch(/^mqtt:\/\/genlock:\*\*\*@/)
    } finally {
      await daemon.stop()
    }
    expectNoSecret(JSON.stringify(daemon.logs) + daemon.stderr)
  }, 60_000)

  it('validate: neither the summary nor a problem repeats a secret', async () => {
    const { configFile } = setup('redact_validate')
    const ok = await runBuilt(['validate', '--config', configFile])
    expect(ok.stdout).toMatch(/OK — 1 devices, 1 automations/)
    const broken = writeSetup({
      config: `mqtt: { url: "${secretUrl()}", password: ${MQTT_FIELD_SECRET}, port: x }\nlocks: { backend: redis, url: "${REDIS_SECRET}" }\n`,
    })
    dirs.push(broken.dir)
    const failed = await runBuilt(['validate', '--config', broken.configFile])
    expect(failed.stderr).toMatch(/locks\.url: must be a redis:\/\//)
    expect(failed.code).toBe(1)
    expectNoSecret(ok.stdout + ok.stderr + failed.stdout + failed.stderr)
  }, 60_000)

  it('status: the broker URL it prints has its password redacted, from --broker and from --config', async () => {
    const fromFlag = await runBuilt(['status', '--broker', secretUrl(), '--base-topic', 'redact_status'])
    expect(fromFlag.stdout).toContain(`genlock on mqtt://genlock:***@127.0.0.1:${mosquitto.port}`)
    const { configFile } = setup('redact_status')
    const fromConfig = await runBuilt(['status', '--config', configFile, '--json'])
    expect(fromConfig.code).toBe(0)
    const text = await runBuilt(['status', '--config', configFile])
    expect(text.stdout).toContain('genlock on mqtt://genlock:***@')
    expectNoSecret(
      fromFlag.stdout + fromFlag.stderr + fromConfig.stdout + fromConfig.stderr + text.stdout + text.stderr,
    )
  }, 60_000)

  it('health: the broker and Redis lines name their URLs without passwords', async () => {
    const { configFile } = setup('redact_health')
    const result = await runBuilt(['health', '--config', configFile])
    expect(result.stdout).toMatch(/^ok +broker +mqtt:\/\/genlock:\*\*\*@/m)
    expect(result.stdout).toMatch(/^FAIL locks +redis redis:\/\/default:\*\*\*@127\.0\.0\.1:\d+: /m)
    expectNoSecret(result.stdout + result.stderr)
  }, 60_000)

  it('trigger: an error naming the broker redacts its password', async () => {
    const result = await runBuilt([
      'trigger',
      'nosuch',
      'on',
      '--broker',
      secretUrl(),
      '--base-topic',
      'redact_trigger',
    ])
    expect(result.stderr).toContain(`on mqtt://genlock:***@127.0.0.1:${mosquitto.port}`)
    expect(result.code).toBe(1)
    expectNoSecret(result.stdout + result.stderr)
  }, 60_000)

  it('simulate: the start line and the recorded timeline redact the broker password', async () => {
    const { dir, configFile } = setup('redact_simulate')
    const record = join(dir, 'timeline.jsonl')
    const simulate = await spawnBuilt(['simulate', '--config', configFile, '--headless', '--record', record])
    try {
      const started = await simulate.waitForLog((entry) => / started \([^)]*\): /.test(entry.msg))
      expect(started.msg).toContain('broker mqtt://genlock:***@')
    } finally {
      await simulate.stop()
    }
    const { readFileSync } = await import('node:fs')
    expectNoSecret(JSON.stringify(simulate.logs) + simulate.stderr + readFileSync(record, 'utf8'))
  }, 60_000)
})

import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/config/logger.js'
import { Daemon } from '../../src/daemon/index.js'
import { checkHealth, HealthExitCode } from '../../src/health.js'
import { writeSetup } from '../cli/setup-files.js'
import { Observer } from '../mqtt/observer.js'
import { freePort, startMosquitto, startRedis } from '../support/services.js'

const cli = join(import.meta.dirname, '../../src/cli/index.ts')

let mosquitto: Awaited<ReturnType<typeof startMosquitto>>
let redis: Awaited<ReturnType<typeof startRedis>>
let observer: Observer
let counter = 0

beforeAll(async () => {
  ;[mosquitto, redis] = await Promise.all([startMosquitto(), startRedis()])
  observer = await Observer.connect(mosquitto.url, ['+/status'])
})

afterAll(async () => {
  await observer?.client.endAsync()
  await Promise.all([mosquitto?.dispose(), redis?.dispose()])
})

/** A config folder for a daemon on the test's mosquitto, with its own base topic. */
function setup(extra = '', url = mosquitto.url): { configFile: string; baseTopic: string } {
  const baseTopic = `health${++counter}_${process.pid}`
  const { configFile } = writeSetup({
    config: `mqtt: { url: "${url}", base_topic: ${baseTopic}, client_id: ${baseTopic} }\n${extra}`,
    devices: { 'bulb.yaml': 'id: bulb\nadapter: sim\n' },
  })
  return { configFile, baseTopic }
}

/** Starts a daemon and waits until the broker holds its retained `online`, as the health check will read it. */
async function startDaemon(configFile: string, baseTopic: string): Promise<Daemon> {
  const from = observer.mark
  const daemon = await Daemon.start(configFile, { logger: createLogger({ level: 'silent', pretty: false }) })
  await observer.waitForPayload(`${baseTopic}/status`, 'online', from)
  return daemon
}

function runCli(...args: string[]): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.resume()
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout })))
}

describe('genlock health', () => {
  it('is healthy while the daemon is online on its broker, and says so on every check', async () => {
    const { configFile, baseTopic } = setup()
    const daemon = await startDaemon(configFile, baseTopic)
    try {
      const report = await checkHealth(configFile)
      expect(report.exitCode).toBe(HealthExitCode.healthy)
      expect(report.checks.map((check) => [check.name, check.ok])).toEqual([
        ['config', true],
        ['broker', true],
        ['daemon', true],
        ['locks', true],
      ])
    } finally {
      await daemon.stop()
    }
  })

  it('reports the daemon not online (4) once it has stopped and published offline', async () => {
    const { configFile, baseTopic } = setup()
    const daemon = await startDaemon(configFile, baseTopic)
    await daemon.stop()
    const report = await checkHealth(configFile)
    expect(report.exitCode).toBe(HealthExitCode.daemonNotOnline)
    expect(report.checks.find((check) => check.name === 'daemon')?.detail).toContain(`${baseTopic}/status is 'offline'`)
  })

  it('reports the daemon not online (4) when no daemon ever published a status there', async () => {
    const { configFile, baseTopic } = setup()
    const report = await checkHealth(configFile)
    expect(report.exitCode).toBe(HealthExitCode.daemonNotOnline)
    expect(report.checks.find((check) => check.name === 'daemon')?.detail).toContain(
      `${baseTopic}/status holds nothing`,
    )
  })

  it('reports the broker unreachable (2) when nothing listens at mqtt.url', async () => {
    const { configFile } = setup('', `mqtt://127.0.0.1:${await freePort()}`)
    const report = await checkHealth(configFile)
    expect(report.exitCode).toBe(HealthExitCode.brokerUnreachable)
    expect(report.checks.find((check) => check.name === 'broker')).toMatchObject({ ok: false })
    expect(report.checks.find((check) => check.name === 'broker')?.detail).toMatch(/ECONNREFUSED/)
  })

  it('reports a broken config (1) with file:line:col and field, without touching the network', async () => {
    const { configFile } = writeSetup({ config: 'mqtt:\n  embedded: true\n  port: lots\n' })
    const report = await checkHealth(configFile)
    expect(report.exitCode).toBe(HealthExitCode.configUnusable)
    expect(report.checks).toHaveLength(1)
    expect(report.checks[0]?.detail).toContain(`${configFile}:3:9`)
    expect(report.checks[0]?.detail).toContain('mqtt.port')
  })

  it('checks a Redis lock backend with PING, and reports it unreachable (5) when it does not answer', async () => {
    const up = setup(`locks: { backend: redis, url: "${redis.url}" }\n`)
    const down = setup(`locks: { backend: redis, url: "redis://127.0.0.1:${await freePort()}" }\n`)
    const daemon = await startDaemon(up.configFile, up.baseTopic)
    const daemonOnDown = await startDaemon(down.configFile, down.baseTopic)
    try {
      const healthy = await checkHealth(up.configFile)
      expect(healthy.exitCode).toBe(HealthExitCode.healthy)
      expect(healthy.checks.find((check) => check.name === 'locks')?.detail).toContain('answers PING')
      const unhealthy = await checkHealth(down.configFile)
      expect(unhealthy.exitCode).toBe(HealthExitCode.lockBackendUnreachable)
      expect(unhealthy.checks.find((check) => check.name === 'daemon')).toMatchObject({ ok: true })
    } finally {
      await Promise.all([daemon.stop(), daemonOnDown.stop()])
    }
  })

  it('exits with the report’s code from the command line: 0 with a line per check, 2 for a dead broker', async () => {
    const { configFile, baseTopic } = setup()
    const daemon = await startDaemon(configFile, baseTopic)
    try {
      const ok = await runCli('health', '--config', configFile)
      expect(ok.code).toBe(0)
      expect(ok.stdout).toMatch(/^ok +daemon +\S+\/status is online$/m)
    } finally {
      await daemon.stop()
    }
    const dead = setup('', `mqtt://127.0.0.1:${await freePort()}`)
    const failed = await runCli('health', '--config', dead.configFile, '--json')
    expect(failed.code).toBe(HealthExitCode.brokerUnreachable)
    expect(JSON.parse(failed.stdout)).toMatchObject({ healthy: false, exitCode: HealthExitCode.brokerUnreachable })
  })
})

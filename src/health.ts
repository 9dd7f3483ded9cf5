/**
 * `genlock health`: asks the broker a running daemon uses whether that daemon is online there (the retained
 * `<base>/status` it publishes on connect, with `offline` as its last will), reads the daemon's own retained
 * `<base>/health` report (devices, config problems), and checks the lock backend. It reads
 * only what the daemon already publishes, so it needs no port or socket of its own and works the same in a
 * container, under systemd and from another machine.
 */
import { brokerAddress, type BrokerAddress } from './config/broker-address.js'
import { loadConfig, type GenlockConfig } from './config/config.js'
import { ConfigError, formatProblem } from './config/problems.js'
import { redactUrl } from './mqtt/logger.js'
import { MqttToolClient } from './mqtt/tool-client.js'

/**
 * The exit codes of `genlock health`. 1 and 2 mean what they mean for every genlock command; 4 and 5 are its own.
 * When several checks fail, the first in this order decides: config, broker, daemon, locks. Docker reserves exit
 * code 2 in HEALTHCHECK, so the Dockerfile maps every failure to 1 (`genlock health || exit 1`).
 */
export const HealthExitCode = {
  /** The broker answers, the daemon is `online` there, and the lock backend answers. */
  healthy: 0,
  /** The config file is missing or invalid (the problems are printed with file:line:col). */
  configUnusable: 1,
  /** The MQTT broker cannot be reached, or refuses our credentials. */
  brokerUnreachable: 2,
  /** The broker answers but `<base>/status` is `offline` or was never published: the daemon is down or not connected. */
  daemonNotOnline: 4,
  /** `locks.backend: redis` and Redis does not answer PING. */
  lockBackendUnreachable: 5,
} as const

export type HealthExitCode = (typeof HealthExitCode)[keyof typeof HealthExitCode]

/** One line of the report. */
export interface HealthCheck {
  readonly name: 'config' | 'broker' | 'daemon' | 'locks'
  readonly ok: boolean
  readonly detail: string
}

export interface HealthReport {
  readonly healthy: boolean
  readonly exitCode: HealthExitCode
  readonly checks: readonly HealthCheck[]
  /**
   * What the daemon itself last reported on the retained `<base>/health` (uptime, memory, reconnects, devices,
   * config problems), when it published one. Config problems and unreachable bulbs do not make it unhealthy: the
   * daemon runs on the last good files and retries the bulbs, and a container must not be restarted for them.
   */
  readonly daemon?: DaemonHealthView | undefined
}

/** The part of the daemon's `<base>/health` report this command reads (see src/daemon/extensions/health). */
export interface DaemonHealthView {
  readonly timestamp?: string
  readonly uptime_s?: number
  readonly memory?: { readonly rss_bytes?: number }
  readonly mqtt?: { readonly reconnects?: number }
  readonly devices?: Readonly<Record<string, { readonly reachable?: boolean; readonly command_failures?: number }>>
  readonly unreachable?: readonly string[]
  readonly config_problems?: readonly { readonly text?: string }[]
}

export interface HealthOptions {
  readonly env?: NodeJS.ProcessEnv | undefined
  /** How long to wait for each answer (broker, retained status, Redis), ms. Default 3000. */
  readonly timeoutMs?: number | undefined
}

/**
 * Checks the daemon `configFile` describes. Never throws for an unhealthy daemon: the report says what failed.
 *
 * @example
 * const report = await checkHealth('/config/config.yaml')
 * process.exitCode = report.exitCode
 */
export async function checkHealth(configFile: string, options: HealthOptions = {}): Promise<HealthReport> {
  const timeoutMs = options.timeoutMs ?? 3000
  let config: GenlockConfig
  let address: BrokerAddress
  try {
    config = loadConfig(configFile, options.env ?? process.env)
    address = brokerAddress(config.mqtt)
  } catch (error) {
    const detail =
      error instanceof ConfigError ? error.problems.map(formatProblem).join('\n') : (error as Error).message
    return report([{ name: 'config', ok: false, detail }])
  }
  const [{ checks, daemon }, locks] = await Promise.all([
    checkDaemonOnBroker(config, address, timeoutMs),
    checkLocks(config, timeoutMs),
  ])
  return { ...report([{ name: 'config', ok: true, detail: config.file }, ...checks, locks]), daemon }
}

/** The daemon's own report as lines for people: uptime, reconnects, bulbs, config problems. */
export function describeDaemonHealth(health: DaemonHealthView): string[] {
  const devices = Object.entries(health.devices ?? {})
  const unreachable = health.unreachable ?? []
  const failures = devices.filter(([, device]) => (device.command_failures ?? 0) > 0)
  const problems = health.config_problems ?? []
  const megabytes = health.memory?.rss_bytes === undefined ? '?' : Math.round(health.memory.rss_bytes / 1e6)
  return [
    `up ${health.uptime_s ?? '?'} s, ${megabytes} MB resident, ${health.mqtt?.reconnects ?? 0} broker reconnects` +
      (health.timestamp ? ` (reported ${health.timestamp})` : ''),
    `${devices.length - unreachable.length} of ${devices.length} bulbs reachable` +
      (unreachable.length > 0 ? `; not answering: ${unreachable.join(', ')}` : ''),
    ...failures.map(([id, device]) => `${id}: ${device.command_failures} failed commands`),
    problems.length === 0 ? 'no config problems' : `${problems.length} config problems:`,
    ...problems.map((problem) => `  ${problem.text ?? '?'}`),
  ]
}

const exitCodeOf: Record<HealthCheck['name'], HealthExitCode> = {
  config: HealthExitCode.configUnusable,
  broker: HealthExitCode.brokerUnreachable,
  daemon: HealthExitCode.daemonNotOnline,
  locks: HealthExitCode.lockBackendUnreachable,
}

function report(checks: HealthCheck[]): HealthReport {
  const failed = checks.find((check) => !check.ok)
  return { healthy: !failed, exitCode: failed ? exitCodeOf[failed.name] : HealthExitCode.healthy, checks }
}

async function checkDaemonOnBroker(
  config: GenlockConfig,
  address: BrokerAddress,
  timeoutMs: number,
): Promise<{ checks: HealthCheck[]; daemon?: DaemonHealthView | undefined }> {
  const { mqtt } = config
  const url = address.url
  const topic = `${mqtt.baseTopic}/status`
  let client: MqttToolClient
  try {
    // A clean session with a random client id and no will: probing can never knock the daemon off the broker.
    client = await MqttToolClient.connect({ ...address, clientIdPrefix: 'genlock_health', connectTimeoutMs: timeoutMs })
  } catch (error) {
    return { checks: [{ name: 'broker', ok: false, detail: (error as Error).message }] }
  }
  const where = mqtt.embedded ? `embedded broker ${url}` : redactUrl(url)
  let status: string | undefined
  let daemon: DaemonHealthView | undefined
  try {
    // After the flush every retained message on the topics has arrived: none means the topic holds nothing.
    const answered = client
      .subscribeAcked(
        topic,
        (message) => (status = message.payload.length > 0 ? message.payload.toString() : undefined),
      )
      .then(() =>
        client.subscribeAcked(`${mqtt.baseTopic}/health`, (message) => {
          daemon = parseDaemonHealth(message.payload.toString())
        }),
      )
      .then(() => client.flush())
      .then(() => true)
      .catch(() => false)
    if (!(await Promise.race([answered, deadline(timeoutMs)]))) {
      const detail = `${where} accepted us but did not answer within ${timeoutMs} ms`
      return { checks: [{ name: 'broker', ok: false, detail }] }
    }
  } finally {
    await client.close()
  }
  const broker: HealthCheck = { name: 'broker', ok: true, detail: `${where} answers` }
  if (status === 'online')
    return { checks: [broker, { name: 'daemon', ok: true, detail: `${topic} is online` }], daemon }
  const said = status === undefined ? 'holds nothing (never started here?)' : `is '${status}'`
  // A stopped daemon's last report is old news: it is not shown.
  return { checks: [broker, { name: 'daemon', ok: false, detail: `${topic} ${said}` }] }
}

/** The daemon's report, or undefined when the payload is not one (an empty retained message clears it). */
function parseDaemonHealth(payload: string): DaemonHealthView | undefined {
  try {
    const value: unknown = JSON.parse(payload)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as DaemonHealthView)
      : undefined
  } catch {
    return undefined
  }
}

/** Resolves false after `ms`, without keeping the process alive for it. */
function deadline(ms: number): Promise<false> {
  return new Promise((resolve) => setTimeout(() => resolve(false), ms).unref())
}

async function checkLocks(config: GenlockConfig, timeoutMs: number): Promise<HealthCheck> {
  if (config.locks.backend === 'memory') return { name: 'locks', ok: true, detail: 'memory (inside the daemon)' }
  const url = config.locks.url
  const error = await pingRedis(url, timeoutMs)
  return error
    ? { name: 'locks', ok: false, detail: `redis ${redactUrl(url)}: ${error}` }
    : { name: 'locks', ok: true, detail: `redis ${redactUrl(url)} answers PING` }
}

/** Undefined when Redis answered PING with PONG, else why not. ioredis is loaded only for a redis backend. */
async function pingRedis(url: string, timeoutMs: number): Promise<string | undefined> {
  const { Redis } = await import('ioredis')
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectionName: 'genlock-health',
  })
  // Without an 'error' listener ioredis prints the failure to the console as well.
  client.on('error', () => undefined)
  try {
    await client.connect()
    const answer = await client.ping()
    return answer === 'PONG' ? undefined : `answered PING with '${answer}'`
  } catch (error) {
    return (error as Error).message
  } finally {
    client.disconnect()
  }
}

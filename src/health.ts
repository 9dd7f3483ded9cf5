/**
 * `genlock health`: asks the broker a running daemon uses whether that daemon is online there (the retained
 * `<base>/status` it publishes on connect, with `offline` as its last will), and checks the lock backend. It reads
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
  const [mqttChecks, locks] = await Promise.all([
    checkDaemonOnBroker(config, address, timeoutMs),
    checkLocks(config, timeoutMs),
  ])
  return report([{ name: 'config', ok: true, detail: config.file }, ...mqttChecks, locks])
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
): Promise<HealthCheck[]> {
  const { mqtt } = config
  const url = address.url
  const topic = `${mqtt.baseTopic}/status`
  let client: MqttToolClient
  try {
    // A clean session with a random client id and no will: probing can never knock the daemon off the broker.
    client = await MqttToolClient.connect({ ...address, clientIdPrefix: 'genlock_health', connectTimeoutMs: timeoutMs })
  } catch (error) {
    return [{ name: 'broker', ok: false, detail: (error as Error).message }]
  }
  const where = mqtt.embedded ? `embedded broker ${url}` : redactUrl(url)
  let status: string | undefined
  try {
    // After the flush every retained message on the topic has arrived: none means the topic holds nothing.
    const answered = client
      .subscribeAcked(
        topic,
        (message) => (status = message.payload.length > 0 ? message.payload.toString() : undefined),
      )
      .then(() => client.flush())
      .then(() => true)
      .catch(() => false)
    if (!(await Promise.race([answered, deadline(timeoutMs)]))) {
      return [{ name: 'broker', ok: false, detail: `${where} accepted us but did not answer within ${timeoutMs} ms` }]
    }
  } finally {
    await client.close()
  }
  const broker: HealthCheck = { name: 'broker', ok: true, detail: `${where} answers` }
  if (status === 'online') return [broker, { name: 'daemon', ok: true, detail: `${topic} is online` }]
  const said = status === undefined ? 'holds nothing (never started here?)' : `is '${status}'`
  return [broker, { name: 'daemon', ok: false, detail: `${topic} ${said}` }]
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

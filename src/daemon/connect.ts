/**
 * What the daemon connects to: its MQTT broker (the configured one, an embedded one it starts, or an ephemeral one
 * for `simulate`) and its lock backend (memory or Redis).
 */
import { brokerAddress, type BrokerAddress } from '../config/broker-address.js'
import type { GenlockConfig } from '../config/config.js'
import type { Logger } from '../config/logger.js'
import { loginChecker } from '../config/password-hash.js'
import type { LockingProtocol, LockTimer } from '../lock/index.js'
import { memoryProtocol } from '../lock/memory.js'
import { MqttConnection, redactUrl, startEmbeddedBroker, type EmbeddedBroker } from '../mqtt/index.js'

/** How the daemon meets its broker (part of DaemonOptions). */
export interface BrokerChoice {
  /**
   * The broker: `config` (default) as config.yaml says; `ephemeral`, an embedded broker on a free 127.0.0.1 port,
   * closed at stop, whatever the config says; or `{ url }`, an existing broker.
   */
  readonly broker?: 'config' | 'ephemeral' | { readonly url: string } | undefined
  /**
   * Run as a guest on a broker a real daemon may be using: a clean session under a client id of its own, no
   * `<base>/status`, no retained state topics, no Home Assistant discovery, and a first connect that fails fast
   * (a BrokerUnreachableError) rather than waiting for the broker.
   */
  readonly guest?: boolean | undefined
}

/**
 * Starts the embedded broker the config or `choice` asks for and connects to the broker: a persistent session
 * under `mqtt.client_id`, or as a guest (a client id of its own, a clean session, a first connect that fails fast).
 */
export async function connect(
  config: GenlockConfig,
  choice: BrokerChoice,
  logger: Logger,
): Promise<{ bus: MqttConnection; broker: EmbeddedBroker | undefined }> {
  const mqttLogger = logger.child({ component: 'mqtt' })
  const { broker, address } = await openBroker(config, choice, mqttLogger)
  const guest = choice.guest === true
  const clientId = guest
    ? `${config.mqtt.clientId}_guest_${Math.random().toString(16).slice(2, 10)}`
    : config.mqtt.clientId
  mqttLogger.info({ url: redactUrl(address.url), clientId }, 'mqtt connecting')
  const bus = await MqttConnection.open({
    ...address,
    clientId,
    baseTopic: config.mqtt.baseTopic,
    maxPayloadBytes: config.mqtt.maxPayloadBytes,
    logger: mqttLogger,
    holdUnhandled: true,
    guest,
    ...(guest ? { firstConnectTimeoutMs: 3000 } : {}),
  }).catch(async (error: unknown) => {
    await broker?.close()
    throw error
  })
  return { bus, broker }
}

/** The embedded broker the config or `options.broker` asks for (started here), and the address to connect to. */
async function openBroker(
  config: GenlockConfig,
  options: BrokerChoice,
  logger: Logger,
): Promise<{ broker: EmbeddedBroker | undefined; address: BrokerAddress }> {
  const choice = options.broker ?? 'config'
  if (typeof choice === 'object') return { broker: undefined, address: { url: choice.url } }
  if (choice === 'ephemeral') {
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, logger })
    return { broker, address: { url: broker.url } }
  }
  if (!config.mqtt.embedded) return { broker: undefined, address: brokerAddress(config.mqtt) }
  const settings = config.mqtt.broker
  const broker = await startEmbeddedBroker({
    host: config.mqtt.host,
    port: config.mqtt.port,
    logger,
    authenticate: settings.logins.length > 0 ? loginChecker(settings.logins) : undefined,
    limits: settings,
  })
  return { broker, address: brokerAddress(config.mqtt, broker.port) }
}

/** The lock protocol `locks.backend` names; the Redis protocol's code is loaded only when it is the one. */
export async function lockProtocol(config: GenlockConfig, logger: Logger, timer?: LockTimer): Promise<LockingProtocol> {
  // A clock of its own (a simulation's) runs the locks in memory on it: Redis counts its lease times in real time.
  if (config.locks.backend === 'memory' || timer) {
    return memoryProtocol({ logger: logger.child({ component: 'locks' }), ...(timer && { timer }) })
  }
  const { redisProtocol } = await import('../lock/redis/index.js')
  return redisProtocol({
    url: config.locks.url,
    keyPrefix: config.locks.keyPrefix,
    logger: logger.child({ component: 'locks' }),
  })
}

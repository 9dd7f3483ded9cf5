import type { Command } from 'commander'
import { brokerAddress, type BrokerAddress } from '../config/broker-address.js'
import { redactUrl } from '../mqtt/logger.js'
import type { MqttToolClient } from '../mqtt/tool-client.js'
import { CliError, EXIT, loadConfigOrFail } from './errors.js'

/** The options of every command that talks to the daemon's broker. */
export interface BrokerOptions {
  readonly config: string
  readonly broker?: string
  readonly baseTopic?: string
  readonly timeout: string
}

/** Adds `--config`, `--broker`, `--base-topic` and `--timeout` to a command that talks to the daemon's broker. */
export function brokerOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'read the broker and base topic from this config file', 'config.yaml')
    .option('-b, --broker <url>', 'the MQTT broker, e.g. mqtt://127.0.0.1:1883 (instead of the config file)')
    .option('--base-topic <topic>', "the daemon's base topic (default: the config file's, or genlock)")
    .option('--timeout <ms>', 'how long to wait for the broker', '3000')
}

/**
 * Connects to the broker `--broker` names, or the one the config file names (its embedded broker's address, or
 * `mqtt.url` with its credentials). Unreachable → a CliError with exit code 2. The `url` it returns is for
 * printing: its password, if any, is redacted.
 */
export async function connectToBroker(
  options: BrokerOptions,
): Promise<{ client: MqttToolClient; url: string; baseTopic: string }> {
  const timeoutMs = Number(options.timeout)
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new CliError(`--timeout must be a positive number of ms`)
  let address: BrokerAddress
  let baseTopic = options.baseTopic
  if (options.broker !== undefined) {
    if (!/^mqtts?:\/\/[^/]+/.test(options.broker))
      throw new CliError(`--broker must be an mqtt:// or mqtts:// URL, e.g. mqtt://127.0.0.1:1883`)
    address = { url: options.broker }
  } else {
    const config = loadConfigOrFail(options.config)
    address = brokerAddress(config.mqtt)
    baseTopic ??= config.mqtt.baseTopic
  }
  baseTopic ??= 'genlock'
  const { MqttToolClient } = await import('../mqtt/tool-client.js')
  try {
    const client = await MqttToolClient.connect({ ...address, connectTimeoutMs: timeoutMs })
    return { client, url: redactUrl(address.url), baseTopic }
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.unreachable)
  }
}

import { readFileSync } from 'node:fs'
import type { MqttSettings } from './config.js'

/** Where and as whom to reach an MQTT broker: what every genlock MQTT client (daemon, tools, health) connects with. */
export interface BrokerAddress {
  /** `mqtt://host:port` or `mqtts://host:port`. */
  readonly url: string
  readonly username?: string | undefined
  readonly password?: string | undefined
  /** PEM contents for mqtts:// (the CA to trust, and a client certificate with its key). */
  readonly ca?: Buffer | undefined
  readonly cert?: Buffer | undefined
  readonly key?: Buffer | undefined
}

/**
 * The broker `mqtt` (a loaded config's `mqtt` section) describes, as client options: `mqtt.url`, or the embedded
 * broker's address as reached from this machine (an embedded broker on 0.0.0.0 is reached on 127.0.0.1), with
 * the credentials and the PEM files read. `embeddedPort` replaces the configured port (an embedded broker started
 * on port 0 tells its real one).
 *
 * @example
 * const bus = await MqttConnection.open({ ...brokerAddress(config.mqtt), clientId, baseTopic })
 */
export function brokerAddress(mqtt: MqttSettings, embeddedPort?: number): BrokerAddress {
  const url = mqtt.embedded ? `mqtt://${reachableHost(mqtt.host)}:${embeddedPort ?? mqtt.port}` : mqtt.url
  return {
    url,
    username: mqtt.username,
    password: mqtt.password,
    ca: pem(mqtt.ca, 'ca'),
    cert: pem(mqtt.cert, 'cert'),
    key: pem(mqtt.key, 'key'),
  }
}

function pem(path: string | undefined, field: string): Buffer | undefined {
  if (path === undefined) return undefined
  try {
    return readFileSync(path)
  } catch (error) {
    throw new Error(`mqtt.${field}: cannot read ${path}: ${(error as Error).message}`, { cause: error })
  }
}

/** A host listening on every interface is reached on loopback. */
function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') ? `[${host}]` : host
}

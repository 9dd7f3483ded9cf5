import { randomBytes } from 'node:crypto'
import { connect } from 'mqtt'
import { redactUrl } from './logger.js'

export interface StatusProbeOptions {
  /** `mqtt://host:port` or `mqtts://host:port`; redacted in any error it appears in. */
  readonly url: string
  /** The retained topic to read, e.g. `genlock/status`. */
  readonly topic: string
  /** How long to wait for the broker to accept us, and then for the retained message. */
  readonly timeoutMs: number
  readonly username?: string | undefined
  readonly password?: string | undefined
  readonly ca?: string | Buffer | undefined
  readonly cert?: string | Buffer | undefined
  readonly key?: string | Buffer | undefined
}

/** What a probe learned: the broker could not be reached, or it could and `topic` holds `retained` (if anything). */
export type StatusProbeResult =
  | { readonly reachable: false; readonly error: string }
  | { readonly reachable: true; readonly retained: string | undefined }

/**
 * Reads the retained payload of one topic with a throwaway client, then disconnects. Unlike the daemon's
 * MqttConnection it uses a clean session, a random client id, no last will and publishes nothing, so probing
 * can never knock the daemon off the broker or overwrite its `<base>/status`.
 *
 * @example
 * const result = await readRetained({ url: 'mqtt://127.0.0.1:1883', topic: 'genlock/status', timeoutMs: 3000 })
 * if (result.reachable && result.retained === 'online') console.log('genlock is up')
 */
export function readRetained(options: StatusProbeOptions): Promise<StatusProbeResult> {
  const url = redactUrl(options.url)
  const client = connect(options.url, {
    clientId: `genlock-health-${randomBytes(4).toString('hex')}`,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: options.timeoutMs,
    protocolVersion: 4,
    username: options.username,
    password: options.password,
    ca: options.ca,
    cert: options.cert,
    key: options.key,
  })
  return new Promise<StatusProbeResult>((resolve) => {
    let connected = false
    let done = false
    const finish = (result: StatusProbeResult) => {
      if (done) return
      done = true
      clearTimeout(timer)
      client.removeAllListeners('message')
      client.end(true)
      resolve(result)
    }
    // Brokers send retained messages right after SUBACK; none by the deadline means the topic holds nothing.
    const timer = setTimeout(
      () =>
        finish(
          connected
            ? { reachable: true, retained: undefined }
            : { reachable: false, error: `no answer from MQTT broker ${url} within ${options.timeoutMs} ms` },
        ),
      options.timeoutMs,
    )
    client.on('error', (error) => finish({ reachable: false, error: `MQTT broker ${url}: ${error.message}` }))
    client.on('close', () => {
      if (!connected) finish({ reachable: false, error: `MQTT broker ${url} closed the connection` })
    })
    client.on('message', (topic, payload) => {
      if (topic !== options.topic) return
      // An empty retained payload is how MQTT clears a retained message: the topic holds nothing.
      finish({ reachable: true, retained: payload.length > 0 ? payload.toString() : undefined })
    })
    client.once('connect', () => {
      connected = true
      client.subscribe(options.topic, { qos: 0 }, (error) => {
        if (error) finish({ reachable: false, error: `MQTT broker ${url} refused to subscribe: ${error.message}` })
      })
    })
  })
}

/**
 * The one place genlock makes an mqtt.js client. mqtt.js's `connect()` loads every transport it knows at the
 * first connect, WebSocket included (the `ws` package: ~6 MB of a ready daemon's memory and ~40 ms of its
 * start-up on Node 26, issue 18), whatever the URL says. genlock speaks mqtt:// and mqtts:// only (config.ts
 * refuses other URLs), so for those it builds the client itself with mqtt.js's own TCP and TLS stream builders,
 * from the options `connect()` would derive; any other URL still goes through `connect()`. Its TCP and TLS builders
 * load the SOCKS proxy client (15 modules) whether or not a proxy is set, so a plain mqtt:// connection without
 * one opens its socket here, as mqtt.js's TCP builder does without a proxy.
 */
import './packet-library.js'
import { createRequire } from 'node:module'
import { createConnection } from 'node:net'
import { connect, MqttClient, type IClientOptions } from 'mqtt'

type StreamBuilder = ConstructorParameters<typeof MqttClient>[0]
type TransportModule = { default: (client: MqttClient, options: IClientOptions) => ReturnType<StreamBuilder> }

const require = createRequire(import.meta.url)

/**
 * An mqtt.js client for `url` with `options`, connecting as `connect(url, options)` would.
 *
 * @example
 * const client = openMqttClient('mqtt://127.0.0.1:1883', { clientId: 'genlock' })
 */
export function openMqttClient(url: string, options: IClientOptions): MqttClient {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return connect(url, options)
  }
  const scheme = parsed.protocol.replace(/:$/, '')
  if (scheme !== 'mqtt' && scheme !== 'mqtts') return connect(url, options)
  // As mqtt.js's connect(): what the URL says, then the options over it, then credentials in the URL over both.
  const clientId = parsed.searchParams.get('clientId')
  const opts: IClientOptions = {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    ...(parsed.port === '' ? {} : { port: Number(parsed.port) }),
    ...options,
    ...(clientId === null ? {} : { clientId }),
  }
  if (parsed.username !== '') {
    const auth =
      decodeURIComponent(parsed.username) + (parsed.password === '' ? '' : `:${decodeURIComponent(parsed.password)}`)
    const match = /^(.+):(.+)$/.exec(auth)
    opts.username = match ? match[1] : auth
    if (match) opts.password = match[2]
  }
  opts.protocol = opts.cert && opts.key ? 'mqtts' : scheme
  opts.defaultProtocol = opts.protocol
  opts.socksProxy ??= process.env.MQTTJS_SOCKS_PROXY
  const client = new MqttClient(streamBuilder(opts), opts)
  // connect() does the same: errors are reported through the client's events, never as an unhandled 'error'.
  client.on('error', () => undefined)
  return client
}

function streamBuilder(opts: IClientOptions): StreamBuilder {
  if (opts.protocol === 'mqtt' && !opts.socksProxy) {
    // What mqtt.js's TCP builder does without a proxy, options written back included.
    opts.port = opts.port || 1883
    opts.hostname = opts.hostname || opts.host || 'localhost'
    const { port, hostname: host, path } = opts
    return () => (path === undefined ? createConnection({ port, host }) : createConnection({ path }))
  }
  const transport = require(
    opts.protocol === 'mqtts' ? 'mqtt/lib/connect/tls' : 'mqtt/lib/connect/tcp',
  ) as TransportModule
  return (self) => transport.default(self, opts)
}

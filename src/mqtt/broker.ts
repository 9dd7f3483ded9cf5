import './packet-library.js'
import { createServer, type Server, type Socket } from 'node:net'
import { DEFAULT_BROKER_LIMITS, limitedPersistence, RetainedBudget, type BrokerLimits } from './broker-limits.js'
import { silentLogger, type MqttLogger } from './logger.js'
import { guardPacketSize } from './packet-size-guard.js'

/** An MQTT broker inside the daemon's process, so `mqtt: { embedded: true }` runs with nothing else installed. */
export interface EmbeddedBroker {
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

export interface EmbeddedBrokerOptions {
  readonly port: number
  /** Default 127.0.0.1. Anything that reaches beyond this machine needs `authenticate`. */
  readonly host?: string | undefined
  /**
   * Checks a client's username and password. Without it, every client is let in without one — which is only
   * allowed while the broker listens on loopback (as Mosquitto 2 allows anonymous clients only there by default).
   */
  readonly authenticate?: ((username: string, password: Buffer) => Promise<boolean>) | undefined
  /** Each limit left out (or undefined) takes its {@link DEFAULT_BROKER_LIMITS} value. */
  readonly limits?: { readonly [K in keyof BrokerLimits]?: number | undefined } | undefined
  readonly logger?: MqttLogger | undefined
}

/** CONNACK return codes of MQTT 3.1.1 that aedes passes on from an authentication error. */
const BAD_USERNAME_OR_PASSWORD = 4
const NOT_AUTHORIZED = 5

/**
 * Starts an aedes broker listening on `host:port` (127.0.0.1 by default), with Mosquitto's limits (packet size,
 * queued messages per client, retained size) and, with `authenticate`, logins. Refuses to listen beyond loopback
 * without `authenticate`. Port 0 picks a free one; read it back from `port`.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions = { port: 1883 }): Promise<EmbeddedBroker> {
  const logger = options.logger ?? silentLogger
  const host = options.host ?? '127.0.0.1'
  const limits: BrokerLimits = {
    maxPacketBytes: options.limits?.maxPacketBytes ?? DEFAULT_BROKER_LIMITS.maxPacketBytes,
    maxQueuedMessages: options.limits?.maxQueuedMessages ?? DEFAULT_BROKER_LIMITS.maxQueuedMessages,
    maxRetainedBytes: options.limits?.maxRetainedBytes ?? DEFAULT_BROKER_LIMITS.maxRetainedBytes,
  }
  const authenticate = options.authenticate
  const retained = new RetainedBudget(limits.maxRetainedBytes)
  // Loaded here, not at the top: a daemon pointed at an existing broker never pays for aedes.
  const { Aedes } = await import('aedes')
  const aedes = await Aedes.createBroker({
    persistence: limitedPersistence(limits, retained, logger),
    authenticate: (client, username, password, done) => {
      if (!authenticate) return done(null, true)
      const remote = (client.conn as { remoteAddress?: string }).remoteAddress
      if (username === undefined || password === undefined) {
        logger.warn({ client: client.id, remote }, 'mqtt client without username and password refused')
        return done(Object.assign(new Error('not authorized'), { returnCode: NOT_AUTHORIZED }), false)
      }
      authenticate(username, password).then(
        (ok) => {
          if (ok) return done(null, true)
          logger.warn({ client: client.id, user: username, remote }, 'mqtt login refused: wrong username or password')
          done(Object.assign(new Error('bad username or password'), { returnCode: BAD_USERNAME_OR_PASSWORD }), false)
        },
        (error: Error) => {
          logger.error({ client: client.id, err: error.message }, 'mqtt login check failed')
          done(Object.assign(error, { returnCode: NOT_AUTHORIZED }), false)
        },
      )
    },
    authorizePublish: (client, packet, done) => {
      // aedes's own rule, kept: clients may not publish into the broker's $SYS tree.
      if (packet.topic.startsWith('$SYS/')) return done(new Error('$SYS/ topic is reserved'))
      if (packet.retain && !retained.admits(packet.topic, packet.payload.length)) {
        logger.warn(
          { client: client?.id, topic: packet.topic, bytes: packet.payload.length, limit: limits.maxRetainedBytes },
          'mqtt retained message refused: retained messages would exceed mqtt.max_retained_bytes',
        )
        return done(new Error('retained messages would exceed max_retained_bytes'))
      }
      done(null)
    },
  })
  aedes.on('clientError', (client, error) =>
    logger.debug({ client: client.id, err: error.message }, 'broker client error'),
  )
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.setNoDelay(true)
    socket.once('close', () => sockets.delete(socket))
    const remote = socket.remoteAddress
    aedes.handle(
      guardPacketSize(socket, limits.maxPacketBytes, (size) =>
        logger.warn(
          { remote, bytes: size, limit: limits.maxPacketBytes },
          size < 0
            ? 'mqtt client sent a malformed packet length; disconnected'
            : 'mqtt client sent a packet over mqtt.max_packet_bytes; disconnected',
        ),
      ),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const hint =
        error.code === 'EADDRINUSE'
          ? ' (another broker already uses it: set mqtt.port, or mqtt.url to use that one)'
          : ''
      reject(new Error(`embedded MQTT broker cannot listen on ${host}:${options.port}: ${error.message}${hint}`))
    })
    server.listen(options.port, host, () => resolve())
  })
  const close = async () => {
    await new Promise<void>((resolve) => aedes.close(() => resolve()))
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  const address = server.address()
  const bound = typeof address === 'object' && address ? address : undefined
  const port = bound?.port ?? options.port
  // Checked on the address actually bound (a host name can resolve to anything): the config check is the friendly
  // one, this one holds for every caller.
  if (!authenticate && bound && !isLoopbackAddress(bound.address)) {
    await close()
    throw new Error(
      `embedded MQTT broker on ${host}:${port} would let other machines in without logging in: give it logins ` +
        '(mqtt.username/password and mqtt.users) or listen on 127.0.0.1',
    )
  }
  logger.info({ host, port, logins: authenticate !== undefined, ...limits }, 'embedded mqtt broker listening')
  return { url: `mqtt://${host}:${port}`, port, close }
}

function isLoopbackAddress(address: string): boolean {
  return address === '::1' || /^(::ffff:)?127\./.test(address)
}

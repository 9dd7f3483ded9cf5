import { createServer, type Server, type Socket } from 'node:net'
import { silentLogger, type MqttLogger } from './logger.js'

/** An MQTT broker inside the daemon's process, so `mqtt: { embedded: true }` runs with nothing else installed. */
export interface EmbeddedBroker {
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/**
 * Starts an aedes broker listening on `host:port` (127.0.0.1 by default: other machines cannot reach it unless
 * configured to). Port 0 picks a free one; read it back from `port`.
 */
export async function startEmbeddedBroker(
  options: { port: number; host?: string; logger?: MqttLogger } = { port: 1883 },
): Promise<EmbeddedBroker> {
  const logger = options.logger ?? silentLogger
  const host = options.host ?? '127.0.0.1'
  // Loaded here, not at the top: a daemon pointed at an existing broker never pays for aedes.
  const { Aedes } = await import('aedes')
  const aedes = await Aedes.createBroker()
  aedes.on('clientError', (client, error) =>
    logger.debug({ client: client.id, err: error.message }, 'broker client error'),
  )
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.setNoDelay(true)
    socket.once('close', () => sockets.delete(socket))
    aedes.handle(socket)
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
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  logger.info({ host, port }, 'embedded mqtt broker listening')
  return {
    url: `mqtt://${host}:${port}`,
    port,
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

import { createServer, connect, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

/** What the proxy does with the next connections. */
export type ProxyFault = 'none' | 'hang' | 'reset-once'

/**
 * A TCP proxy in front of a real device (the Kasa simulator) that can misbehave on demand: swallow requests
 * (a hung bulb), drop one connection (a flaky network) or stop listening (a bulb off the network).
 */
export class FaultProxy {
  fault: ProxyFault = 'none'
  connections = 0
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  port = 0

  constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {}

  async start(port = 0): Promise<number> {
    const server = createServer((client) => this.accept(client))
    this.server = server
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    this.port = (server.address() as AddressInfo).port
    return this.port
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    const server = this.server
    this.server = undefined
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private accept(client: Socket): void {
    this.connections++
    this.sockets.add(client)
    client.on('close', () => this.sockets.delete(client))
    client.on('error', () => {})
    if (this.fault === 'hang') return
    if (this.fault === 'reset-once') {
      this.fault = 'none'
      client.resetAndDestroy()
      return
    }
    const upstream = connect(this.upstreamPort, this.upstreamHost)
    this.sockets.add(upstream)
    upstream.on('close', () => {
      this.sockets.delete(upstream)
      client.end()
    })
    upstream.on('error', () => client.destroy())
    client.pipe(upstream)
    upstream.pipe(client)
  }
}

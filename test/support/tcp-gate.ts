import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { freePort } from './services.js'

/**
 * A TCP relay between clients and a real server, for faults a server restart cannot place exactly: `hold()` keeps
 * what clients send from reaching the server (it waits here), and `cut()` drops every connection together with
 * what waits, as a network that fails between a client's send and the server's read would.
 */
export class TcpGate {
  private readonly pairs = new Set<{ client: Socket; server: Socket }>()
  private holding = false
  private readonly heldBytesWaiters: { bytes: number; resolve: () => void }[] = []
  private held = 0

  private constructor(
    private readonly listener: Server,
    readonly port: number,
  ) {}

  /** Listens on a free port of 127.0.0.1 and relays each connection to `target`. */
  static async open(target: { host: string; port: number }): Promise<TcpGate> {
    const port = await freePort()
    const listener = createServer()
    const gate = new TcpGate(listener, port)
    listener.on('connection', (client: Socket) => gate.relay(client, target))
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject)
      listener.listen(port, '127.0.0.1', resolve)
    })
    return gate
  }

  /** From now on, bytes from clients wait here instead of reaching the server. */
  hold(): void {
    this.holding = true
  }

  /** Resolves once at least `bytes` bytes from clients wait here. */
  heldBytes(bytes: number): Promise<void> {
    if (this.held >= bytes) return Promise.resolve()
    return new Promise((resolve) => this.heldBytesWaiters.push({ bytes, resolve }))
  }

  /** Destroys every relayed connection, dropping what waits, and relays new connections freely again. */
  cut(): void {
    for (const { client, server } of this.pairs) {
      client.destroy()
      server.destroy()
    }
    this.pairs.clear()
    this.holding = false
    this.held = 0
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.listener.close(() => resolve()))
  }

  private relay(client: Socket, target: { host: string; port: number }): void {
    const server = createConnection(target)
    const pair = { client, server }
    this.pairs.add(pair)
    client.on('data', (chunk: Buffer) => {
      if (!this.holding) {
        server.write(chunk)
        return
      }
      this.held += chunk.length
      for (const waiter of [...this.heldBytesWaiters]) {
        if (this.held < waiter.bytes) continue
        this.heldBytesWaiters.splice(this.heldBytesWaiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    })
    server.on('data', (chunk: Buffer) => client.write(chunk))
    const end = () => {
      this.pairs.delete(pair)
      client.destroy()
      server.destroy()
    }
    client.on('close', end)
    server.on('close', end)
    client.on('error', end)
    server.on('error', end)
  }
}

import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram'
import { createServer, type Server, type Socket } from 'node:net'
import { listen } from './listen.js'

/**
 * The Kasa legacy protocol's cipher, as the bulbs speak it on port 9999: each byte XORed with the previous
 * ciphertext byte, starting from 171 ("autokey"). TCP messages carry a 4-byte big-endian length first; UDP
 * discovery packets do not.
 */
export function xorEncrypt(plain: Buffer): Buffer {
  const out = Buffer.alloc(plain.length)
  let key = 171
  for (let i = 0; i < plain.length; i++) key = out[i] = key ^ plain[i]!
  return out
}

export function xorDecrypt(cipher: Buffer): Buffer {
  const out = Buffer.alloc(cipher.length)
  let key = 171
  for (let i = 0; i < cipher.length; i++) {
    out[i] = key ^ cipher[i]!
    key = cipher[i]!
  }
  return out
}

/** What the legacy listener does with one request: answer it, or a fault. */
export type LegacyOutcome = { readonly answer: string } | { readonly fault: 'hang' | 'reset' }

/** A request as it arrived, for the simulator's log and faults. */
export type LegacyHandler = (request: string, via: 'tcp' | 'udp') => LegacyOutcome

/**
 * One bulb's legacy endpoint: TCP (length-prefixed, one JSON request per frame, connection kept open) and UDP
 * (discovery) on the same port number, as real bulbs listen on 9999 for both.
 */
export class LegacyEndpoint {
  private server: Server | undefined
  private udp: UdpSocket | undefined
  private readonly sockets = new Set<Socket>()

  private constructor(
    readonly host: string,
    public port: number,
    private readonly handle: LegacyHandler,
  ) {}

  /**
   * Listens on `port` (0: a free one). With port 0 the TCP port is chosen first and UDP bound to the same number;
   * if another process holds that UDP port it tries again with a new one.
   */
  static async listen(host: string, port: number, handle: LegacyHandler): Promise<LegacyEndpoint> {
    const endpoint = new LegacyEndpoint(host, port, handle)
    for (let attempt = 1; ; attempt++) {
      try {
        await endpoint.open()
        return endpoint
      } catch (error) {
        await endpoint.close()
        endpoint.port = port
        if (port !== 0 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw error
      }
    }
  }

  /** Whether it is listening (not unplugged). */
  get listening(): boolean {
    return this.server !== undefined
  }

  /** Listens again on the same port after {@link close}. */
  async open(): Promise<void> {
    if (this.server) return
    const server = createServer((socket) => this.accept(socket))
    this.port = await listen(server, this.port, this.host)
    this.server = server
    const udp = createSocket({ type: 'udp4' })
    this.udp = udp
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject)
      udp.bind(this.port, this.host, () => {
        udp.off('error', reject)
        resolve()
      })
    })
    udp.on('message', (message, from) => this.answerDiscovery(message, from))
  }

  /** Answers a discovery packet that reached the simulator's shared discovery port, from this bulb's own port. */
  answerDiscovery(message: Buffer, from: RemoteInfo): void {
    if (!this.udp) return
    const outcome = this.handle(xorDecrypt(message).toString('utf8'), 'udp')
    if ('answer' in outcome) this.udp.send(xorEncrypt(Buffer.from(outcome.answer)), from.port, from.address)
  }

  /** Stops listening and drops every connection (the bulb is off the network). */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    this.sockets.clear()
    const server = this.server
    const udp = this.udp
    this.server = undefined
    this.udp = undefined
    udp?.close()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    socket.on('error', () => undefined)
    let buffered = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      while (buffered.length >= 4) {
        const length = buffered.readUInt32BE(0)
        if (buffered.length < 4 + length) return
        const frame = buffered.subarray(4, 4 + length)
        buffered = buffered.subarray(4 + length)
        const outcome = this.handle(xorDecrypt(frame).toString('utf8'), 'tcp')
        if ('fault' in outcome) {
          if (outcome.fault === 'reset') socket.resetAndDestroy()
          return // 'hang': read, never answered
        }
        const body = xorEncrypt(Buffer.from(outcome.answer))
        const header = Buffer.alloc(4)
        header.writeUInt32BE(body.length)
        socket.write(Buffer.concat([header, body]))
      }
    })
  }
}

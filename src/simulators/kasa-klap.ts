import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { listen } from './listen.js'
import { handshake1Proof, handshake2Proof, KlapSession, sameProof } from '../devices/kasa/klap-session.js'

/** What the KLAP endpoint does with one decrypted request: answer it, or a fault. A hung bulb answers no handshake either. */
export type KlapOutcome = { readonly answer: string } | { readonly fault: 'hang' | 'reset' }

interface PendingSession {
  readonly localSeed: Buffer
  readonly remoteSeed: Buffer
  session?: KlapSession
  /** The highest sequence number seen; a request must use a higher one (no replays). */
  lastSeq?: number
}

/** Session lifetime the device announces in its TIMEOUT cookie, as real bulbs do: one day, in seconds. */
const SESSION_SECONDS = 86_400

/**
 * One bulb's KLAP endpoint (newer Kasa firmware): HTTP with `/app/handshake1`, `/app/handshake2` and
 * `/app/request?seq=`, AES-encrypted requests under a session bound to the account's auth hash. Refuses
 * (403) a request without a finished handshake, with a bad signature or with a sequence number it has seen.
 */
export class KlapEndpoint {
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  private sessions = new Map<string, PendingSession>()

  private constructor(
    readonly host: string,
    public port: number,
    private readonly authHash: Buffer,
    private readonly handle: (request: string) => KlapOutcome,
    private readonly hung: () => boolean,
  ) {}

  /** Listens on `port` (0: a free one). */
  static async listen(
    host: string,
    port: number,
    authHash: Buffer,
    handle: (request: string) => KlapOutcome,
    hung: () => boolean,
  ): Promise<KlapEndpoint> {
    const endpoint = new KlapEndpoint(host, port, authHash, handle, hung)
    await endpoint.open()
    return endpoint
  }

  get listening(): boolean {
    return this.server !== undefined
  }

  /** Forgets every session, as a bulb does when it restarts: the next request gets 403 and must handshake again. */
  forgetSessions(): void {
    this.sessions = new Map()
  }

  async open(): Promise<void> {
    if (this.server) return
    const server = createServer((request, response) => void this.serve(request, response))
    server.on('connection', (socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
    this.port = await listen(server, this.port, this.host)
    this.server = server
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    this.sockets.clear()
    this.forgetSessions()
    const server = this.server
    this.server = undefined
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    const url = new URL(request.url ?? '/', 'http://device')
    if (request.method !== 'POST') return this.reply(response, 405)
    if (url.pathname === '/app/handshake1') return this.hung() ? undefined : this.handshake1(body, response)
    const id = /(?:^|;\s*)TP_SESSIONID=([^;]+)/.exec(request.headers.cookie ?? '')?.[1]
    const pending = id === undefined ? undefined : this.sessions.get(id)
    if (url.pathname === '/app/handshake2') {
      if (this.hung()) return
      if (!pending || !sameProof(body, handshake2Proof(pending.remoteSeed, this.authHash))) {
        return this.reply(response, 403)
      }
      pending.session = new KlapSession(pending.localSeed, pending.remoteSeed, this.authHash)
      return this.reply(response, 200)
    }
    if (url.pathname !== '/app/request') return this.reply(response, 404)
    const seq = Number(url.searchParams.get('seq'))
    const session = pending?.session
    if (!pending || !session || !Number.isInteger(seq) || (pending.lastSeq !== undefined && seq <= pending.lastSeq)) {
      return this.reply(response, 403)
    }
    let plain: string
    try {
      plain = session.decrypt(body, seq).toString('utf8')
    } catch {
      return this.reply(response, 403)
    }
    pending.lastSeq = seq
    const outcome = this.handle(plain)
    if ('fault' in outcome) {
      if (outcome.fault === 'reset') request.socket.resetAndDestroy()
      return
    }
    this.reply(response, 200, session.encrypt(Buffer.from(outcome.answer), seq))
  }

  private handshake1(localSeed: Buffer, response: ServerResponse): void {
    if (localSeed.length !== 16) return this.reply(response, 400)
    const remoteSeed = randomBytes(16)
    const id = randomBytes(16).toString('hex').toUpperCase()
    this.sessions.set(id, { localSeed, remoteSeed })
    response.setHeader('Set-Cookie', `TP_SESSIONID=${id};TIMEOUT=${SESSION_SECONDS}`)
    this.reply(response, 200, Buffer.concat([remoteSeed, handshake1Proof(localSeed, this.authHash)]))
  }

  private reply(response: ServerResponse, status: number, body?: Buffer): void {
    response.writeHead(status, { 'Content-Type': 'application/octet-stream' })
    response.end(body)
  }
}

import { randomBytes } from 'node:crypto'
import { Agent, request as httpRequest } from 'node:http'
import { DeviceCommandError, TransientDeviceError } from '../errors.js'
import { handshake1Proof, handshake2Proof, klapAuthHash, KlapSession, sameProof } from './klap-session.js'

export interface KlapTransportOptions {
  readonly host: string
  /** HTTP port; real bulbs use 80. */
  readonly port: number
  /** The TP-Link account (the Kasa app's e-mail and password); empty for a bulb never bound to the cloud. */
  readonly username: string
  readonly password: string
  /** The bulb as users know it, for errors: `hall_bulb (kasa 192.168.1.40)`. */
  readonly device: string
}

/** The device answered HTTP, but not as a KLAP device does (it is something else, or older firmware). */
export class NotKlapError extends DeviceCommandError {
  override name = 'NotKlapError'
}

/** The device speaks KLAP but is bound to another TP-Link account than the one configured. */
export class KlapAuthenticationError extends DeviceCommandError {
  override name = 'KlapAuthenticationError'
}

/**
 * Devices refresh a session after a day (their TIMEOUT cookie); their clocks drift, so a session is renewed 20 minutes
 * early, as python-kasa does.
 */
const SESSION_MARGIN_S = 20 * 60

interface Session {
  readonly id: string
  readonly keys: KlapSession
  seq: number
  /** `Date.now()` after which a new handshake is made. */
  readonly renewAt: number
}

interface HttpAnswer {
  readonly status: number
  readonly body: Buffer
  readonly setCookie: readonly string[]
}

/**
 * KLAP, the local protocol of newer Kasa firmware, over HTTP (see klap-session.ts for the exchange): handshakes on
 * first use, renews the session before it expires or when the device refuses it (403, e.g. after a restart), and
 * sends the same JSON requests as the legacy protocol. One request at a time (the bulb's command queue sees to it).
 */
export class KlapTransport {
  private readonly authHash: Buffer
  private readonly blankHash = klapAuthHash('', '')
  private session: Session | undefined
  // One kept-alive connection, as python-kasa's HTTP session keeps one: a handshake and the requests after it reuse it.
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 })

  constructor(private readonly options: KlapTransportOptions) {
    // Only the hash is kept: the password itself never sits in memory longer than this.
    this.authHash = klapAuthHash(options.username, options.password)
  }

  /** Where it talks to, for messages: `http 192.168.1.40:80`. */
  get endpoint(): string {
    return `http ${this.options.host}:${this.options.port}`
  }

  /** Sends one JSON request and resolves with the device's JSON answer. */
  async send(request: object, signal?: AbortSignal): Promise<Record<string, unknown>> {
    for (let attempt = 1; ; attempt++) {
      const session = this.session && Date.now() < this.session.renewAt ? this.session : await this.handshake(signal)
      const seq = (session.seq = KlapSession.next(session.seq))
      const body = session.keys.encrypt(Buffer.from(JSON.stringify(request)), seq)
      const answer = await this.post(`/app/request?seq=${seq}`, body, signal, session.id)
      if (answer.status === 200) {
        // Answers are not signature-checked: python-kasa skips their first 32 bytes too, and so must we to work with
        // every firmware.
        return JSON.parse(session.keys.decrypt(answer.body, seq, { verify: false }).toString('utf8')) as Record<
          string,
          unknown
        >
      }
      this.session = undefined
      // 403: the device no longer knows the session (it restarted, or it expired early). One new handshake.
      if (answer.status === 403 && attempt === 1) continue
      throw new TransientDeviceError(this.options.device, `KLAP request answered HTTP ${answer.status}`)
    }
  }

  /** Drops the session and the kept-alive connection. */
  close(): void {
    this.session = undefined
    this.agent.destroy()
  }

  private async handshake(signal?: AbortSignal): Promise<Session> {
    this.session = undefined
    const localSeed = randomBytes(16)
    const first = await this.post('/app/handshake1', localSeed, signal)
    if (first.status !== 200) {
      throw new NotKlapError(this.options.device, `answered KLAP handshake1 with HTTP ${first.status}`)
    }
    if (first.body.length !== 48) {
      throw new NotKlapError(this.options.device, `answered KLAP handshake1 with ${first.body.length} bytes, not 48`)
    }
    const remoteSeed = first.body.subarray(0, 16)
    const proof = first.body.subarray(16)
    // A bulb never bound to the TP-Link cloud uses empty credentials, whatever is configured.
    const authHash = [this.authHash, this.blankHash].find((hash) => sameProof(proof, handshake1Proof(localSeed, hash)))
    if (!authHash) {
      throw new KlapAuthenticationError(
        this.options.device,
        'refused the configured TP-Link account: check username and password (the Kasa app e-mail and password, ' +
          'both case-sensitive)',
      )
    }
    const cookies = parseCookies(first.setCookie)
    const id = cookies.get('TP_SESSIONID')
    if (!id) throw new NotKlapError(this.options.device, 'answered KLAP handshake1 without a TP_SESSIONID cookie')
    const second = await this.post('/app/handshake2', handshake2Proof(remoteSeed, authHash), signal, id)
    if (second.status !== 200) {
      throw new TransientDeviceError(this.options.device, `answered KLAP handshake2 with HTTP ${second.status}`)
    }
    const lifetime = Number(cookies.get('TIMEOUT') ?? 86_400)
    const keys = new KlapSession(localSeed, remoteSeed, authHash)
    this.session = {
      id,
      keys,
      seq: keys.initialSeq,
      renewAt: Date.now() + Math.max(60, lifetime - SESSION_MARGIN_S) * 1000,
    }
    return this.session
  }

  private post(path: string, body: Buffer, signal: AbortSignal | undefined, session?: string): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(
        {
          host: this.options.host,
          port: this.options.port,
          path,
          method: 'POST',
          agent: this.agent,
          signal,
          headers: {
            'Content-Type': 'application/octet-stream',
            'Content-Length': body.length,
            ...(session ? { Cookie: `TP_SESSIONID=${session}` } : {}),
          },
        },
        (response) => {
          const chunks: Buffer[] = []
          response.on('data', (chunk: Buffer) => chunks.push(chunk))
          response.on('error', reject)
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks),
              setCookie: response.headers['set-cookie'] ?? [],
            }),
          )
        },
      )
      request.on('error', reject)
      request.end(body)
    })
  }
}

/** `TP_SESSIONID=…;TIMEOUT=86400` (devices put both in one header) into a map. */
function parseCookies(headers: readonly string[]): Map<string, string> {
  const cookies = new Map<string, string>()
  for (const header of headers) {
    for (const part of header.split(';')) {
      const [name, ...value] = part.trim().split('=')
      if (name && value.length > 0) cookies.set(name, value.join('='))
    }
  }
  return cookies
}

import { Agent, request, type RequestOptions } from 'node:https'
import type { IncomingMessage } from 'node:http'
import { checkServerIdentity, type PeerCertificate, type TLSSocket } from 'node:tls'
import { HUE_BRIDGE_ROOT_CAS } from './hue-root-ca.js'

/** What `GET /api/config` (no key needed) says about a bridge. */
export interface BridgeConfig {
  readonly bridgeid: string
  readonly name?: string
  readonly swversion?: string
  readonly apiversion?: string
}

/** A bridge answered with an HTTP error status; `description` is the bridge's own (CLIP v2 `errors`). */
export class BridgeHttpError extends Error {
  override readonly name = 'BridgeHttpError'

  constructor(
    readonly status: number,
    readonly description: string,
  ) {
    super(`HTTP ${status}: ${description}`)
  }
}

/** The bridge's certificate is not one a Hue bridge has (wrong CA, or a name other than the bridge id). */
export class BridgeCertificateError extends Error {
  override readonly name = 'BridgeCertificateError'
}

/** TLS error codes that mean "this certificate is not trusted", as opposed to a network failure. */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/** How an open request ends early: a timed-out command attempt. */
export interface RequestSignal {
  readonly abortSignal: AbortSignal
}

/**
 * HTTPS to one Hue bridge with its certificate verified the way Hue documents it: the chain must end at the Hue
 * bridge root CA (or the CAs given in `ca`, for simulators and tests) and the certificate's name must be the
 * bridge id — the one the device file pins, or else the one the bridge reports in `/api/config`, checked against
 * the certificate of that same connection. Verification is never turned off here; plain HTTP is another path.
 */
export class BridgeHttps {
  /** The verified bridge id (lower case), once {@link identify} succeeded. */
  bridgeId: string | undefined
  /** Keeps connections open; shared with CLIP v1 (node-hue-api) so it is verified the same way. */
  readonly agent: Agent
  private readonly ca: readonly string[]

  constructor(
    readonly host: string,
    readonly port: number,
    options: { readonly ca?: readonly string[]; readonly bridgeId?: string } = {},
  ) {
    this.ca = options.ca && options.ca.length > 0 ? options.ca : HUE_BRIDGE_ROOT_CAS
    this.bridgeId = options.bridgeId?.toLowerCase()
    this.agent = new Agent({
      keepAlive: true,
      // The event stream holds one socket for good; commands and reads share the others.
      maxSockets: 4,
      ca: [...this.ca],
      // Until the id is known, only the chain is checked here; identify() then compares the name itself.
      checkServerIdentity: (_host, cert) => (this.bridgeId ? checkServerIdentity(this.bridgeId, cert) : undefined),
    })
  }

  /** Reads `/api/config` and makes sure the certificate names the bridge that answered. */
  async identify(signal?: RequestSignal): Promise<BridgeConfig> {
    const { body, certificate } = await this.send('GET', '/api/config', { signal })
    const config = body as Partial<BridgeConfig> | undefined
    if (typeof config?.bridgeid !== 'string') throw new BridgeHttpError(200, 'no bridge id in /api/config')
    const id = config.bridgeid.toLowerCase()
    const name = String(certificate?.subject?.CN ?? '').toLowerCase()
    if (this.bridgeId && this.bridgeId !== id)
      throw new BridgeCertificateError(`the bridge at ${this.host} is ${id}, not ${this.bridgeId}`)
    if (name !== id)
      throw new BridgeCertificateError(`the certificate names '${name}', but the bridge says it is ${id}`)
    this.bridgeId = id
    return config as BridgeConfig
  }

  /** One JSON request; a status of 400 and above becomes a {@link BridgeHttpError}. */
  async json(
    method: string,
    path: string,
    options: { key?: string; body?: unknown; signal?: RequestSignal } = {},
  ): Promise<{ status: number; body: unknown }> {
    const { status, body } = await this.send(method, path, options)
    if (status >= 400) throw new BridgeHttpError(status, describe(body))
    return { status, body }
  }

  /** Opens the event stream (`text/event-stream`); the caller reads and ends it. */
  openStream(path: string, key: string): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request(this.options('GET', path, { key, accept: 'text/event-stream' }), (res) => {
        if ((res.statusCode ?? 0) >= 400) {
          res.resume()
          reject(new BridgeHttpError(res.statusCode ?? 0, res.statusMessage ?? 'refused'))
          return
        }
        // A bridge that vanishes without closing the connection would leave the stream silent for ever.
        res.socket.setKeepAlive(true, 10_000)
        resolve(res)
      })
      req.on('error', (error) => reject(explainTls(error)))
      req.end()
    })
  }

  /** Closes idle connections (the event stream is ended by its reader). */
  close(): void {
    this.agent.destroy()
  }

  private options(method: string, path: string, extra: { key?: string; accept?: string }): RequestOptions {
    return {
      host: this.host,
      port: this.port,
      method,
      path,
      agent: this.agent,
      headers: {
        accept: extra.accept ?? 'application/json',
        ...(extra.key ? { 'hue-application-key': extra.key } : {}),
      },
    }
  }

  private send(
    method: string,
    path: string,
    options: { key?: string; body?: unknown; signal?: RequestSignal },
  ): Promise<{ status: number; body: unknown; certificate: PeerCertificate | undefined }> {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
    return new Promise((resolve, reject) => {
      const req = request(
        {
          ...this.options(method, path, options),
          ...(options.signal ? { signal: options.signal.abortSignal } : {}),
        },
        (res) => {
          const certificate = (res.socket as TLSSocket).getPeerCertificate?.()
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('error', reject)
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            let body: unknown = text
            try {
              body = text ? JSON.parse(text) : undefined
            } catch {
              // Not JSON (a proxy's error page): keep the text for the error message.
            }
            resolve({ status: res.statusCode ?? 0, body, certificate })
          })
        },
      )
      req.on('error', (error) => reject(explainTls(error)))
      if (payload !== undefined) req.setHeader('content-type', 'application/json')
      req.end(payload)
    })
  }
}

/** The bridge's own words from a CLIP v2 error body (`{ errors: [{ description }] }`), or the text. */
function describe(body: unknown): string {
  const errors = (body as { errors?: { description?: unknown }[] } | undefined)?.errors
  if (Array.isArray(errors) && errors.length > 0) return errors.map((error) => String(error.description)).join('; ')
  return typeof body === 'string' && body ? body.slice(0, 200) : 'no description'
}

function explainTls(error: Error): Error {
  const code = (error as { code?: string }).code
  return code && CERTIFICATE_CODES.has(code) ? new BridgeCertificateError(`${error.message} (${code})`) : error
}

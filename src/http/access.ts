import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** The cookie the page carries the token in once it was opened with `?token=` (HttpOnly, SameSite=Strict). */
export const TOKEN_COOKIE = 'genlock_token'

/** Who may use the listener, as the config says (`http.token`, `http.ingress_proxy`). */
export interface AccessRules {
  /** Every request must carry it: `Authorization: Bearer <token>` or the {@link TOKEN_COOKIE} cookie. */
  readonly token?: string | undefined
  /** The only peer address answered (Home Assistant's ingress proxy, which has logged the user in). */
  readonly ingressProxy?: string | undefined
}

/** Why a request is refused: the status and a message that says what to do. */
export interface Refusal {
  readonly status: 401 | 403 | 415
  readonly message: string
}

/** `::ffff:172.30.32.2` (an IPv4 peer on a dual-stack socket) → `172.30.32.2`. */
export function peerAddress(request: IncomingMessage): string {
  const address = request.socket.remoteAddress ?? ''
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address
}

/**
 * Refuses a request from anyone but the ingress proxy, when there is one. Checked before anything else: behind
 * ingress, Home Assistant has authenticated the user, and no other machine may skip that by connecting directly.
 */
export function checkPeer(request: IncomingMessage, rules: AccessRules): Refusal | undefined {
  if (rules.ingressProxy === undefined || peerAddress(request) === rules.ingressProxy) return undefined
  return { status: 403, message: `only Home Assistant's ingress proxy (${rules.ingressProxy}) may connect` }
}

/**
 * Without a token or an ingress proxy the listener is on loopback, where any web page the user visits could reach
 * it through DNS rebinding (a name of theirs that resolves to 127.0.0.1): such a request names their host in
 * `Host`, so only loopback names are answered.
 */
export function checkHost(request: IncomingMessage, rules: AccessRules): Refusal | undefined {
  if (rules.token !== undefined || rules.ingressProxy !== undefined) return undefined
  const hostname = hostnameOf(request.headers.host ?? '')
  const loopback = hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  if (loopback) return undefined
  return { status: 403, message: `this listener answers loopback names only (localhost, 127.0.0.1), not ${hostname}` }
}

/** The token the request carries: the Authorization header, else the cookie. */
export function presentedToken(request: IncomingMessage): string | undefined {
  const authorization = request.headers.authorization
  if (authorization?.startsWith('Bearer ')) return authorization.slice('Bearer '.length).trim()
  return cookie(request, TOKEN_COOKIE)
}

/** Whether `presented` is `token`, in time that does not depend on where they differ. */
export function tokenMatches(presented: string | undefined, token: string): boolean {
  if (presented === undefined) return false
  const digest = (text: string) => createHash('sha256').update(text).digest()
  return timingSafeEqual(digest(presented), digest(token))
}

export function checkToken(request: IncomingMessage, rules: AccessRules): Refusal | undefined {
  if (rules.token === undefined || tokenMatches(presentedToken(request), rules.token)) return undefined
  return {
    status: 401,
    message:
      'this dashboard needs its token (http.token): open it once as ?token=<token> (the browser keeps it in a ' +
      'cookie), or send Authorization: Bearer <token>',
  }
}

/**
 * A POST changes state, so it must come from the dashboard's own page: browsers say where a request comes from in
 * `Sec-Fetch-Site` (every current one) or at least `Origin`; a request with neither is not from a browser (curl),
 * and the token covers it. A JSON body is required too: a cross-site form cannot send one without asking first.
 */
export function checkSameOrigin(request: IncomingMessage, trustForwardedHost: boolean): Refusal | undefined {
  const site = request.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin') {
    return { status: 403, message: `cross-site request refused (Sec-Fetch-Site: ${site})` }
  }
  const origin = request.headers.origin
  if (site === undefined && origin !== undefined) {
    const forwarded = trustForwardedHost ? firstValue(request.headers['x-forwarded-host']) : undefined
    const host = forwarded ?? request.headers.host
    let originHost: string | undefined
    try {
      originHost = new URL(origin).host
    } catch {
      originHost = undefined
    }
    if (originHost === undefined || originHost !== host) {
      return { status: 403, message: `cross-site request refused (Origin: ${origin.slice(0, 100)})` }
    }
  }
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json') {
    return { status: 415, message: 'send the request body as JSON (Content-Type: application/json)' }
  }
  return undefined
}

function hostnameOf(host: string): string {
  const bare = host.trim().toLowerCase()
  if (bare.startsWith('[')) return bare.slice(0, bare.indexOf(']') + 1)
  return bare.split(':')[0]!
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header
  return value?.split(',')[0]?.trim() || undefined
}

function cookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) {
      try {
        return decodeURIComponent(rest.join('='))
      } catch {
        return undefined
      }
    }
  }
  return undefined
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  checkHost,
  checkPeer,
  checkSameOrigin,
  checkToken,
  tokenMatches,
  TOKEN_COOKIE,
  type AccessRules,
  type Refusal,
} from './access.js'
import type { HttpRoute } from './route.js'

/** The slice of a pino logger the listener writes to. */
export interface HttpLogger {
  info(fields: object, message?: string): void
  warn(fields: object, message?: string): void
  error(fields: object, message?: string): void
}

export interface HttpListenerOptions extends AccessRules {
  readonly host: string
  /** 0: a free port (tests). */
  readonly port: number
  readonly logger: HttpLogger
}

/** The token cookie lasts a month: a phone on the home screen should not ask for it every day. */
const TOKEN_COOKIE_SECONDS = 30 * 24 * 3600

/**
 * The daemon's one HTTP listener: the dashboard and `/metrics` hand it their {@link HttpRoute}s; it binds, and
 * applies the access rules to every request before a route sees it — the ingress proxy only (when configured), the
 * Host check on loopback, the token (when configured), and for POSTs the same-origin and JSON-body rules.
 *
 * @example
 * const listener = new HttpListener({ host: '127.0.0.1', port: 8099, logger }, [dashboardPage, metrics])
 * await listener.start()
 * // …
 * await listener.stop()
 */
export class HttpListener {
  private readonly server: Server
  private readonly routes = new Map<string, HttpRoute>()

  constructor(
    private readonly options: HttpListenerOptions,
    routes: readonly HttpRoute[],
  ) {
    for (const route of routes) {
      const key = `${route.method} ${route.path}`
      if (this.routes.has(key)) throw new Error(`two HTTP routes for ${key}`)
      this.routes.set(key, route)
    }
    this.server = createServer((request, response) => void this.answer(request, response))
  }

  /** The bound port (the chosen one when the options said 0). */
  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? this.options.port
  }

  /** Binds; a port in use or an address not on this machine is an Error that names it and the config key. */
  async start(): Promise<void> {
    const { host, port } = this.options
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        const why =
          error.code === 'EADDRINUSE'
            ? 'is in use by another program'
            : error.code === 'EADDRNOTAVAIL'
              ? 'is not an address of this machine'
              : `cannot be bound (${error.code ?? error.message})`
        reject(new Error(`http: ${host}:${port} ${why}; change http.port or http.host in the config`))
      }
      this.server.once('error', onError)
      this.server.listen(port, host, () => {
        this.server.off('error', onError)
        resolve()
      })
    })
    this.options.logger.info({ host, port: this.port }, `dashboard on http://${urlHost(host)}:${this.port}/`)
  }

  /** Ends every open response (event streams too) and closes the listener. */
  async stop(): Promise<void> {
    if (!this.server.listening) return
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    await closed
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    response.setHeader('X-Content-Type-Options', 'nosniff')
    // The token may be in the address (`?token=`): no page may pass it on to another site.
    response.setHeader('Referrer-Policy', 'no-referrer')
    response.setHeader('Cache-Control', 'no-store')
    const url = new URL(request.url ?? '/', 'http://listener')
    const rules = this.options
    const refusal = checkPeer(request, rules) ?? checkHost(request, rules)
    if (refusal) return this.refuse(request, response, refusal)
    if (request.method === 'GET' && rules.token !== undefined && url.searchParams.has('token')) {
      return this.logIn(request, response, url, rules.token)
    }
    const unauthorized = checkToken(request, rules)
    if (unauthorized) return this.refuse(request, response, unauthorized)

    const route = this.routes.get(`${request.method} ${url.pathname}`)
    if (!route) {
      const allowed = (['GET', 'POST'] as const).filter((method) => this.routes.has(`${method} ${url.pathname}`))
      if (allowed.length === 0) return text(response, 404, `nothing at ${url.pathname}`)
      response.setHeader('Allow', allowed.join(', '))
      return text(response, 405, `${url.pathname} answers ${allowed.join(' and ')} only`)
    }
    if (route.method === 'POST') {
      const crossSite = checkSameOrigin(request, rules.ingressProxy !== undefined)
      if (crossSite) return this.refuse(request, response, crossSite)
    }
    try {
      await route.handle(request, response, url)
    } catch (error) {
      this.options.logger.error({ path: url.pathname, err: (error as Error).message }, 'http route failed')
      if (!response.headersSent) text(response, 500, 'internal error (see the genlock log)')
      else response.destroy()
    }
  }

  /** `GET …?token=<token>`: keeps the token in a cookie and sends the browser to the same page without it. */
  private logIn(request: IncomingMessage, response: ServerResponse, url: URL, token: string): void {
    const presented = url.searchParams.get('token') ?? undefined
    if (!tokenMatches(presented, token)) {
      return this.refuse(request, response, { status: 401, message: 'wrong token (http.token in the config)' })
    }
    url.searchParams.delete('token')
    // Relative, so it lands on the same page under any path prefix (Home Assistant ingress).
    const page = url.pathname.slice(url.pathname.lastIndexOf('/') + 1) || './'
    response.setHeader(
      'Set-Cookie',
      `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Max-Age=${TOKEN_COOKIE_SECONDS}`,
    )
    response.writeHead(303, { Location: `${page}${url.search}` })
    response.end()
  }

  private refuse(request: IncomingMessage, response: ServerResponse, refusal: Refusal): void {
    this.options.logger.warn(
      { method: request.method, path: (request.url ?? '').split('?')[0], status: refusal.status },
      `http request refused: ${refusal.message}`,
    )
    text(response, refusal.status, refusal.message)
  }
}

function text(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' })
  response.end(`${body}\n`)
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { parse } from 'yaml'
import { freePort, ServiceProcess } from '../support/services.js'

/** The add-on folder, as a user's Supervisor sees it. */
export const ADDON_DIR = join(import.meta.dirname, '../../deploy/homeassistant/genlock')

/** The add-on's config.yaml, parsed. */
export function addonManifest(): {
  version: string
  arch: string[]
  services: string[]
  ingress: boolean
  ingress_port: number
  panel_icon: string
  panel_title: string
  map: { type: string; read_only?: boolean }[]
  options: Record<string, unknown>
  schema: Record<string, string>
  [key: string]: unknown
} {
  return parse(readFileSync(join(ADDON_DIR, 'config.yaml'), 'utf8')) as ReturnType<typeof addonManifest>
}

/** A random login, so a test can search every output for it. */
export function randomLogin(): { username: string; password: string } {
  return { username: `addons_${randomBytes(4).toString('hex')}`, password: randomBytes(24).toString('base64url') }
}

/** A request the stand-in Supervisor answered. */
export interface SupervisorRequest {
  readonly method: string
  readonly path: string
  readonly authorization: string | undefined
}

/**
 * A real HTTP server answering the Supervisor API calls the add-on makes, the way the Supervisor does
 * (home-assistant/supervisor: api/services.py, api/apps.py, api/middleware/security.py):
 * no token → 401, a wrong token → 403, every answer in `{ result, data | message }`, `Service not enabled` when
 * no add-on provides MQTT. `/addons/self/info` reports the add-on's config.yaml `ingress_port`, as the real one does.
 */
export class StandInSupervisor {
  readonly token = randomBytes(32).toString('hex')
  readonly requests: SupervisorRequest[] = []
  /** What `/services/mqtt` returns; undefined: no add-on provides MQTT. */
  mqtt: Record<string, unknown> | undefined
  /** Answer every request with this status and a plain-text body (a Supervisor in trouble). */
  failWith: number | undefined
  /** What `/addons/self/info` says `ingress_port` is: config.yaml's, unless a test needs a free port. */
  ingressPort = addonManifest().ingress_port

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(mqtt?: Record<string, unknown>): Promise<StandInSupervisor> {
    const port = await freePort()
    const server = createServer()
    const supervisor = new StandInSupervisor(server, `http://127.0.0.1:${port}`)
    supervisor.mqtt = mqtt
    server.on('request', (request: IncomingMessage, response: ServerResponse) => supervisor.answer(request, response))
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    return supervisor
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '/').split('?')[0]!
    const authorization = request.headers.authorization
    this.requests.push({ method: request.method ?? '', path, authorization })
    const text = (status: number, body: string) => {
      response.writeHead(status, { 'content-type': 'text/plain' })
      response.end(body)
    }
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' })
      response.end(JSON.stringify(body))
    }
    if (this.failWith !== undefined) return text(this.failWith, `${this.failWith}: Supervisor trouble`)
    if (!authorization?.startsWith('Bearer ')) return text(401, '401: Unauthorized')
    if (authorization !== `Bearer ${this.token}`) return text(403, '403: Forbidden')
    if (request.method !== 'GET') return text(405, '405: Method Not Allowed')
    if (path === '/services/mqtt') {
      if (!this.mqtt) return json(400, { result: 'error', message: 'Service not enabled' })
      return json(200, { result: 'ok', data: { ...this.mqtt, addon: 'core_mosquitto' } })
    }
    if (path === '/addons/self/info') {
      const manifest = addonManifest()
      return json(200, {
        result: 'ok',
        data: {
          name: 'genlock',
          slug: 'local_genlock',
          version: manifest.version,
          ingress: manifest.ingress,
          ingress_port: this.ingressPort,
          ingress_entry: '/api/hassio_ingress/stand-in-entry',
          ingress_panel: true,
          ip_address: '172.30.33.4',
          options: {},
        },
      })
    }
    return text(404, '404: Not Found')
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

/** A real mosquitto on a free port that lets in only `username` with `password` (a mosquitto_passwd file). */
export async function startMosquittoWithLogin(login: {
  username: string
  password: string
}): Promise<ServiceProcess & { url: string }> {
  const port = await freePort()
  const service = new ServiceProcess(
    'mosquitto-login',
    port,
    'mosquitto',
    (dir) => {
      const passwords = join(dir, 'passwords')
      writeFileSync(passwords, '', { mode: 0o600 })
      execFileSync('mosquitto_passwd', ['-b', passwords, login.username, login.password])
      const conf = join(dir, 'mosquitto.conf')
      writeFileSync(
        conf,
        [
          `listener ${port} 127.0.0.1`,
          'allow_anonymous false',
          `password_file ${passwords}`,
          // Started as root, mosquitto drops to user `mosquitto`, which cannot read the 0600 file in our temp dir.
          ...(process.getuid?.() === 0 ? ['user root'] : []),
          // Default log types: errors, warnings, notices and the "running" line start() waits for.
          'log_dest stderr',
          '',
        ].join('\n'),
      )
      return ['-c', conf]
    },
    /mosquitto version .* running/,
  )
  await service.start()
  return Object.assign(service, { url: `mqtt://127.0.0.1:${port}` })
}

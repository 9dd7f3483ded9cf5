import { randomBytes } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import { EventEmitter } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeMessage, encodeResponse, TYPE } from '../net/dns.js'

/** How long pairing stays open after the link button is pressed, as on a real bridge. */
export const LINK_BUTTON_WINDOW_MS = 30_000

type LightRecord = Record<string, unknown> & { state: Record<string, unknown> }

/** Light `n` (1-based): odd ones are colour lamps (gamut C), even ones white-ambiance lamps, as a bridge lists them. */
function light(n: number): LightRecord {
  const uniqueid = `00:17:88:01:00:00:00:${n.toString(16).padStart(2, '0')}-0b`
  const common = { manufacturername: 'Signify Netherlands B.V.', uniqueid, swversion: '1.50.2_r30933' }
  if (n % 2 === 1) {
    return {
      ...common,
      state: {
        on: false,
        bri: 254,
        hue: 8418,
        sat: 140,
        effect: 'none',
        xy: [0.4573, 0.41],
        ct: 366,
        alert: 'none',
        colormode: 'ct',
        mode: 'homeautomation',
        reachable: true,
      },
      type: 'Extended color light',
      name: `Hue color lamp ${n}`,
      modelid: 'LCT015',
      productname: 'Hue color lamp',
      capabilities: {
        certified: true,
        control: {
          mindimlevel: 1000,
          maxlumen: 806,
          colorgamuttype: 'C',
          colorgamut: [
            [0.6915, 0.3083],
            [0.17, 0.7],
            [0.1532, 0.0475],
          ],
          ct: { min: 153, max: 500 },
        },
      },
    }
  }
  return {
    ...common,
    state: { on: false, bri: 254, ct: 366, alert: 'none', colormode: 'ct', mode: 'homeautomation', reachable: true },
    type: 'Color temperature light',
    name: `Hue ambiance lamp ${n}`,
    modelid: 'LTW001',
    productname: 'Hue ambiance lamp',
    capabilities: { certified: true, control: { mindimlevel: 1000, maxlumen: 806, ct: { min: 153, max: 454 } } },
  }
}

export interface HueBridgeSimulatorOptions {
  /** Default 127.0.0.1. */
  readonly host?: string
  /** HTTP port, and the UDP port it answers SSDP searches on. 0 (default) picks a free one. */
  readonly port?: number
  /** Number of lights. Default 2. */
  readonly count?: number
  /** Application keys (usernames) the bridge already knows. */
  readonly users?: readonly string[]
}

/** Something the simulated bridge did, for the `genlock sim hue` console and for tests. */
export type HueBridgeEvent =
  | { readonly type: 'linkbutton'; readonly open: boolean }
  | { readonly type: 'paired'; readonly username: string; readonly devicetype: string }
  | { readonly type: 'refused'; readonly devicetype: string }
  | { readonly type: 'light'; readonly id: string; readonly state: Record<string, unknown> }

/**
 * A Philips Hue bridge over plain HTTP with the CLIP v1 endpoints node-hue-api uses: `GET /api/config`,
 * `POST /api` (create a user: needs the link button), `GET /api/<user>[/config|/lights[/<id>]]`,
 * `PUT /api/<user>/lights/<id>/state`, `PUT /api/<user>/config {"linkbutton": true}`. The link button is pressed
 * with {@link pressLinkButton} (or `POST /sim/linkbutton`). It also answers SSDP M-SEARCH on UDP at its HTTP port
 * with a `hue-bridgeid` header, as bridges do, so discovery can find it.
 *
 * @example
 * const bridge = await HueBridgeSimulator.start({ port: 8080, count: 3 })
 * bridge.pressLinkButton() // now `genlock hue pair 127.0.0.1:8080 --insecure` succeeds for 30 s
 */
export class HueBridgeSimulator extends EventEmitter<{ event: [HueBridgeEvent] }> {
  readonly lights: Record<string, LightRecord> = {}
  readonly users = new Map<string, { devicetype: string; clientkey: string }>()
  readonly bridgeId: string
  private linkButtonUntil = 0
  private linkTimer: NodeJS.Timeout | undefined

  private constructor(
    private readonly server: Server,
    private readonly ssdp: Socket,
    readonly host: string,
    readonly port: number,
    options: HueBridgeSimulatorOptions,
  ) {
    super()
    for (let n = 1; n <= (options.count ?? 2); n++) this.lights[String(n)] = light(n)
    for (const user of options.users ?? []) this.users.set(user, { devicetype: 'preset', clientkey: '' })
    this.bridgeId = `001788FFFE${port.toString(16).toUpperCase().padStart(6, '0')}`
  }

  static async start(options: HueBridgeSimulatorOptions = {}): Promise<HueBridgeSimulator> {
    const host = options.host ?? '127.0.0.1'
    const handlers: { handle?: (req: IncomingMessage, res: ServerResponse) => Promise<void> } = {}
    const server = createServer((req, res) => void handlers.handle?.(req, res))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 0, host, () => resolve())
    })
    const port = (server.address() as AddressInfo).port
    const ssdp = createSocket({ type: 'udp4', reuseAddr: true })
    await new Promise<void>((resolve, reject) => {
      ssdp.once('error', reject)
      ssdp.bind(port, host, () => resolve())
    })
    const bridge = new HueBridgeSimulator(server, ssdp, host, port, options)
    handlers.handle = (req, res) => bridge.handle(req, res)
    ssdp.on('message', (message, from) => bridge.answerSearch(message, from.address, from.port))
    return bridge
  }

  get url(): string {
    return `http://${this.host}:${this.port}`
  }

  /** Whether pairing is open (the link button was pressed less than 30 s ago). */
  get linkButtonOpen(): boolean {
    return Date.now() < this.linkButtonUntil
  }

  /** Presses the link button: creating a user works for the next 30 s. */
  pressLinkButton(): void {
    this.linkButtonUntil = Date.now() + LINK_BUTTON_WINDOW_MS
    clearTimeout(this.linkTimer)
    this.linkTimer = setTimeout(() => this.emit('event', { type: 'linkbutton', open: false }), LINK_BUTTON_WINDOW_MS)
    this.linkTimer.unref()
    this.emit('event', { type: 'linkbutton', open: true })
  }

  async stop(): Promise<void> {
    clearTimeout(this.linkTimer)
    this.ssdp.close()
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private config(full: boolean): Record<string, unknown> {
    const base = {
      name: 'genlock simulated bridge',
      bridgeid: this.bridgeId,
      modelid: 'BSB002',
      apiversion: '1.50.0',
      swversion: '1950207110',
      mac: `00:17:88:${this.bridgeId.slice(-6).match(/../g)!.join(':').toLowerCase()}`,
      datastoreversion: '100',
      factorynew: false,
      replacesbridgeid: null,
      starterkitid: '',
    }
    if (!full) return base
    const whitelist = Object.fromEntries(
      [...this.users].map(([name, user]) => [
        name,
        { name: user.devicetype, 'create date': '2026-01-01T00:00:00', 'last use date': '2026-01-01T00:00:00' },
      ]),
    )
    return { ...base, ipaddress: this.host, linkbutton: this.linkButtonOpen, whitelist, zigbeechannel: 15 }
  }

  /** Answers an SSDP M-SEARCH, or an mDNS query for `_hue._tcp.local`, as a bridge on the LAN does. */
  private answerSearch(message: Buffer, address: string, port: number): void {
    if (message.subarray(0, 8).toString('latin1') !== 'M-SEARCH') return this.answerMdns(message, address, port)
    const answer = [
      'HTTP/1.1 200 OK',
      'CACHE-CONTROL: max-age=100',
      'EXT:',
      `LOCATION: ${this.url}/description.xml`,
      'SERVER: Linux/3.14.0 UPnP/1.0 IpBridge/1.50.0',
      `hue-bridgeid: ${this.bridgeId}`,
      'ST: upnp:rootdevice',
      `USN: uuid:2f402f80-da50-11e1-9b23-${this.bridgeId.slice(-12).toLowerCase()}::upnp:rootdevice`,
      '',
      '',
    ].join('\r\n')
    this.ssdp.send(answer, port, address)
  }

  private answerMdns(message: Buffer, address: string, port: number): void {
    let query
    try {
      query = decodeMessage(message)
    } catch {
      return
    }
    const service = '_hue._tcp.local'
    if (query.response || !query.questions.some((q) => q.name === service && q.type === TYPE.PTR)) return
    const instance = `genlock simulated bridge - ${this.bridgeId.slice(-6)}.${service}`
    const target = `${this.bridgeId.toLowerCase()}.local`
    const answer = encodeResponse([
      { name: service, type: TYPE.PTR, ttl: 120, data: { kind: 'ptr', target: instance } },
      { name: instance, type: TYPE.SRV, ttl: 120, data: { kind: 'srv', port: this.port, target } },
      {
        name: instance,
        type: TYPE.TXT,
        ttl: 120,
        data: { kind: 'txt', entries: [`bridgeid=${this.bridgeId.toLowerCase()}`, 'modelid=BSB002'] },
      },
      { name: target, type: TYPE.A, ttl: 120, data: { kind: 'a', address: this.host } },
    ])
    this.ssdp.send(answer, port, address)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const error = (type: number, address: string, description: string) =>
      send(200, [{ error: { type, address, description } }])
    let body: Record<string, unknown>
    try {
      const text = Buffer.concat(chunks).toString('utf8')
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {}
    } catch {
      return error(2, '/', 'body contains invalid json')
    }
    const path = (req.url ?? '/').replace(/\/+$/, '') || '/'
    const method = req.method ?? 'GET'
    if (method === 'POST' && path === '/sim/linkbutton') {
      this.pressLinkButton()
      return send(200, { linkbutton: true })
    }
    if (path === '/api/config' && method === 'GET') return send(200, this.config(false))
    if (path === '/api' && method === 'POST') return this.createUser(body, send, error)
    const match = /^\/api\/([^/]+)(\/config|\/lights(?:\/(\d+)(\/state)?)?)?$/.exec(path)
    if (!match) return error(3, path, `resource, ${path}, not available`)
    const [, user, section, id, state] = match
    if (!this.users.has(user!)) return error(1, section ?? '/', 'unauthorized user')
    if (section === undefined)
      return send(200, {
        lights: this.lights,
        groups: {},
        config: this.config(true),
        schedules: {},
        scenes: {},
        rules: {},
        sensors: {},
        resourcelinks: {},
      })
    if (section === '/config') {
      if (method === 'PUT') {
        if (body.linkbutton === true) this.pressLinkButton()
        return send(
          200,
          Object.entries(body).map(([key, value]) => ({ success: { [`/config/${key}`]: value } })),
        )
      }
      return send(200, this.config(true))
    }
    if (id === undefined) return send(200, this.lights)
    const lamp = this.lights[id]
    if (!lamp) return error(3, `/lights/${id}`, `resource, /lights/${id}, not available`)
    if (!state) return send(200, lamp)
    if (method !== 'PUT') return error(4, path, `method, ${method}, not available for resource, ${path}`)
    const { transitiontime: _transition, ...changes } = body
    Object.assign(lamp.state, changes)
    if (changes.xy) lamp.state.colormode = 'xy'
    if (changes.ct) lamp.state.colormode = 'ct'
    if (changes.hue !== undefined || changes.sat !== undefined) lamp.state.colormode = 'hs'
    this.emit('event', { type: 'light', id, state: { ...lamp.state } })
    send(
      200,
      Object.entries(body).map(([key, value]) => ({ success: { [`/lights/${id}/state/${key}`]: value } })),
    )
  }

  private createUser(
    body: Record<string, unknown>,
    send: (status: number, body: unknown) => void,
    error: (type: number, address: string, description: string) => void,
  ): void {
    const devicetype = body.devicetype
    if (typeof devicetype !== 'string' || !/^[^#]{0,20}#[^#]{0,19}$/.test(devicetype))
      return error(7, '/devicetype', `invalid value, ${String(devicetype)}, for parameter, devicetype`)
    if (!this.linkButtonOpen) {
      this.emit('event', { type: 'refused', devicetype })
      return error(101, '', 'link button not pressed')
    }
    const username = randomBytes(20).toString('base64url').slice(0, 40)
    const clientkey = randomBytes(16).toString('hex').toUpperCase()
    this.users.set(username, { devicetype, clientkey })
    this.emit('event', { type: 'paired', username, devicetype })
    send(200, [{ success: body.generateclientkey === true ? { username, clientkey } : { username } }])
  }
}

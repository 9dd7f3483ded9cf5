import { randomBytes, randomUUID } from 'node:crypto'
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { EventEmitter } from 'node:events'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { Duplex } from 'node:stream'
import type { ReadableWritablePair } from 'node:stream/web'
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { bridgeCertificates } from './hue-certificates.js'
import { searchAnswer } from './hue-bridge-discovery.js'
import { SimulatedLight, v1Change, v2Change, type LightChange, type Resource } from './hue-bridge-lights.js'

/** How long pairing stays open after the link button is pressed, as on a real bridge. */
export const LINK_BUTTON_WINDOW_MS = 30_000

/** Bridge software with CLIP v2 (Hue's threshold is 1948086000), and one from before it. */
const FIRMWARE = {
  v2: { swversion: '1967054020', apiversion: '1.67.0' },
  v1: { swversion: '1941132080', apiversion: '1.41.0' },
} as const

export interface HueBridgeSimulatorOptions {
  /** Default 127.0.0.1. */
  readonly host?: string
  /** The port for HTTPS and plain HTTP (told apart by the first byte), and the UDP port it answers searches on. */
  readonly port?: number
  /** Number of lights. Default 2. */
  readonly count?: number
  /** Application keys (usernames) the bridge already knows. */
  readonly users?: readonly string[]
  /** `v2` (default): current software, CLIP v1 and v2 with the event stream. `v1`: software from before CLIP v2. */
  readonly firmware?: 'v1' | 'v2'
}

/** How the bridge misbehaves on the next light commands (CLIP v1 `PUT …/state`, CLIP v2 `PUT …/light/<id>`). */
export type HueBridgeFault = 'none' | 'hang' | 'busy-once' | 'reset-once'

/** One request the bridge received. `key` is the application key it carried (test use only; never printed). */
export interface HueBridgeRequest {
  readonly method: string
  readonly path: string
  readonly body: unknown
  readonly api: 'v1' | 'v2' | 'stream' | 'other'
  readonly key?: string
  readonly secure: boolean
  readonly at: number
}

/** Something the simulated bridge did, for the `genlock sim hue` console and for tests. */
export type HueBridgeEvent =
  | { readonly type: 'linkbutton'; readonly open: boolean }
  | { readonly type: 'paired'; readonly username: string; readonly devicetype: string }
  | { readonly type: 'refused'; readonly devicetype: string }
  | { readonly type: 'light'; readonly number: number; readonly by: 'v1' | 'v2' | 'app'; readonly state: object }
  | { readonly type: 'connectivity'; readonly number: number; readonly connected: boolean }
  | { readonly type: 'stream'; readonly open: number }

type Send = (status: number, body: unknown) => void

/** One request being answered. */
interface Exchange {
  readonly method: string
  readonly path: string
  readonly body: Record<string, unknown>
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly send: Send
}

/**
 * A Philips Hue bridge, as far as genlock and `genlock hue pair` use one: `POST /api` (pairing, needs the link
 * button), CLIP v1 (`/api/<key>/lights…`) and CLIP v2 (`/clip/v2/resource/light|zigbee_connectivity|bridge`, with
 * the `hue-application-key` header) and the v2 event stream (`/eventstream/clip/v2`, server-sent events). It
 * speaks HTTPS with a certificate for its bridge id signed by its own CA ({@link ca}: give it to clients to trust),
 * and plain HTTP on the same port for v1 and discovery, as a bridge does on port 80. It answers SSDP and mDNS
 * searches at its port.
 *
 * Tests (and the console) can make it misbehave: {@link fault} for light commands, {@link setConnected} for a lamp
 * that loses power, {@link dropEventStreams} / {@link refuseEventStreams}, {@link changeFromApp} for a change made
 * in the Hue app; {@link requests} logs what it received.
 *
 * @example
 * const bridge = await HueBridgeSimulator.start({ port: 8443, count: 3 })
 * bridge.pressLinkButton() // now `genlock hue pair 127.0.0.1:8443 --ca <bridge.ca in a file>` succeeds for 30 s
 */
export class HueBridgeSimulator extends EventEmitter<{ event: [HueBridgeEvent] }> {
  readonly lights: SimulatedLight[] = []
  readonly users = new Map<string, { devicetype: string; clientkey: string }>()
  readonly requests: HueBridgeRequest[] = []
  readonly bridgeId: string
  readonly firmware: 'v1' | 'v2'
  /** The simulator's root CA (PEM): what a client must trust instead of the Hue bridge root CA. */
  readonly ca: string
  fault: HueBridgeFault = 'none'
  private readonly streams = new Set<ServerResponse>()
  private readonly hanging = new Set<ServerResponse>()
  private readonly sockets = new Set<Socket>()
  private readonly requestListeners = new Set<(request: HueBridgeRequest) => void>()
  private refusingStreams = false
  private eventSequence = 0
  private linkButtonUntil = 0
  private linkTimer: NodeJS.Timeout | undefined

  private constructor(
    private readonly server: Server,
    private readonly ssdp: UdpSocket,
    readonly host: string,
    readonly port: number,
    options: HueBridgeSimulatorOptions,
  ) {
    super()
    this.bridgeId = `001788FFFE${port.toString(16).toUpperCase().padStart(6, '0')}`
    this.firmware = options.firmware ?? 'v2'
    for (let n = 1; n <= (options.count ?? 2); n++) this.lights.push(new SimulatedLight(n, this.bridgeId))
    for (const user of options.users ?? []) this.users.set(user, { devicetype: 'preset', clientkey: '' })
    const certificates = bridgeCertificates(this.bridgeId)
    this.ca = certificates.ca
    const handle = (secure: boolean) => (req: IncomingMessage, res: ServerResponse) =>
      void this.handle(req, res, secure)
    const http = createHttpServer(handle(false))
    const https = createHttpsServer(certificates.bridge, handle(true))
    server.on('connection', (socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
      socket.on('error', () => undefined)
      // One port for both, as a bridge has 80 and 443: a TLS handshake starts with byte 0x16.
      socket.once('data', (first) => {
        socket.pause()
        socket.unshift(first)
        if (first[0] !== 0x16) {
          http.emit('connection', socket)
          socket.resume()
          return
        }
        // TLS reads a plain socket's handle directly and would miss the byte already read: hand it a stream.
        // (Node documents Duplex.from({ readable, writable }) for its own streams; @types/node only types web ones.)
        const stream = Duplex.from({ readable: socket, writable: socket } as unknown as ReadableWritablePair)
        stream.on('error', () => socket.destroy())
        https.emit('connection', stream)
      })
    })
  }

  static async start(options: HueBridgeSimulatorOptions = {}): Promise<HueBridgeSimulator> {
    const host = options.host ?? '127.0.0.1'
    const server = createTcpServer({ pauseOnConnect: false })
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
    ssdp.on('message', (message, from) => bridge.answerSearch(message, from.address, from.port))
    return bridge
  }

  /** The plain-HTTP base URL (discovery, CLIP v1 with `insecure: true`). */
  get url(): string {
    return `http://${this.host}:${this.port}`
  }

  /** Whether pairing is open (the link button was pressed less than 30 s ago). */
  get linkButtonOpen(): boolean {
    return Date.now() < this.linkButtonUntil
  }

  /** Event streams open now. */
  get openStreams(): number {
    return this.streams.size
  }

  /** Light `number` (1-based). */
  light(number: number): SimulatedLight {
    const light = this.lights[number - 1]
    if (!light) throw new RangeError(`the simulated bridge has no light ${number}`)
    return light
  }

  /** Presses the link button: creating a user works for the next 30 s. */
  pressLinkButton(): void {
    this.linkButtonUntil = Date.now() + LINK_BUTTON_WINDOW_MS
    clearTimeout(this.linkTimer)
    this.linkTimer = setTimeout(() => this.emit('event', { type: 'linkbutton', open: false }), LINK_BUTTON_WINDOW_MS)
    this.linkTimer.unref()
    this.emit('event', { type: 'linkbutton', open: true })
  }

  /** A change made in the Hue app (or at a switch): applied, and pushed on the event stream like any other. */
  changeFromApp(number: number, change: LightChange): void {
    const light = this.light(number)
    if (light.apply(change)) this.lightChanged(light, 'app', Object.keys(change))
  }

  /** The lamp loses (or gets back) power: v2 reports its `zigbee_connectivity`, v1 `reachable`. */
  setConnected(number: number, connected: boolean): void {
    const light = this.light(number)
    if (light.connected === connected) return
    light.connected = connected
    this.push([light.connectivity()])
    this.emit('event', { type: 'connectivity', number, connected })
  }

  /** Ends every open event stream, as a bridge reboot or a network blip does. */
  dropEventStreams(): void {
    for (const stream of this.streams) stream.destroy()
    this.streams.clear()
  }

  /** While true, new event-stream requests get 503 (the bridge is still starting). */
  refuseEventStreams(refuse: boolean): void {
    this.refusingStreams = refuse
  }

  /** The light-command bodies light `number` received over either API, in order (`api` says which). */
  lightCommands(number: number): { api: 'v1' | 'v2'; body: Record<string, unknown>; key?: string }[] {
    const light = this.light(number)
    return this.requests.flatMap((request) =>
      request.method === 'PUT' &&
      (request.path === `/clip/v2/resource/light/${light.id}` ||
        /^\/api\/[^/]+\/lights\/(\d+)\/state$/.exec(request.path)?.[1] === String(number))
        ? [
            {
              api: request.api as 'v1' | 'v2',
              body: request.body as Record<string, unknown>,
              ...(request.key ? { key: request.key } : {}),
            },
          ]
        : [],
    )
  }

  /** Resolves with the next request matching `predicate`. */
  nextRequest(predicate: (request: HueBridgeRequest) => boolean = () => true): Promise<HueBridgeRequest> {
    return new Promise((resolve) => {
      const listener = (request: HueBridgeRequest) => {
        if (!predicate(request)) return
        this.requestListeners.delete(listener)
        resolve(request)
      }
      this.requestListeners.add(listener)
    })
  }

  /** Stops listening: clients then get ECONNREFUSED, as from a bridge that is off. */
  async stop(): Promise<void> {
    clearTimeout(this.linkTimer)
    this.ssdp.close()
    for (const response of [...this.streams, ...this.hanging]) response.destroy()
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private config(full: boolean): Record<string, unknown> {
    const base = {
      name: 'genlock simulated bridge',
      bridgeid: this.bridgeId,
      modelid: 'BSB002',
      ...FIRMWARE[this.firmware],
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
    const answer = searchAnswer(message, { url: this.url, host: this.host, port: this.port, bridgeId: this.bridgeId })
    if (answer) this.ssdp.send(answer, port, address)
  }

  private async handle(req: IncomingMessage, res: ServerResponse, secure: boolean): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const path = (req.url ?? '/').replace(/\/+$/, '') || '/'
    const method = req.method ?? 'GET'
    const send: Send = (status, body) => {
      if (res.destroyed) return
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    let body: unknown
    try {
      body = text ? JSON.parse(text) : undefined
    } catch {
      body = text
    }
    const header = req.headers['hue-application-key']
    const v1Key = path === '/api/config' ? undefined : /^\/api\/([^/]+)\//.exec(`${path}/`)?.[1]
    const key = typeof header === 'string' ? header : v1Key
    const api = path.startsWith('/clip/v2/')
      ? 'v2'
      : path.startsWith('/eventstream/')
        ? 'stream'
        : path.startsWith('/api')
          ? 'v1'
          : 'other'
    const request: HueBridgeRequest = {
      method,
      path,
      body,
      api,
      ...(key ? { key } : {}),
      secure,
      at: Date.now(),
    }
    this.requests.push(request)
    for (const listener of [...this.requestListeners]) listener(request)
    if (typeof body === 'string')
      return send(400, [{ error: { type: 2, address: path, description: 'body contains invalid json' } }])
    const object = (body ?? {}) as Record<string, unknown>
    if (method === 'POST' && path === '/sim/linkbutton') {
      this.pressLinkButton()
      return send(200, { linkbutton: true })
    }
    if (api === 'v2' || api === 'stream') {
      if (this.firmware === 'v1') return send(404, { errors: [{ description: 'Not Found' }], data: [] })
      // CLIP v2 exists only over HTTPS; a bridge refuses it on port 80.
      if (!secure) return send(403, { errors: [{ description: 'CLIP v2 needs HTTPS' }], data: [] })
      if (!key || !this.users.has(key)) return send(403, { errors: [{ description: 'unauthorized user' }], data: [] })
      const exchange = { method, path, body: object, req, res, send }
      return api === 'stream' ? this.openStream(req, res) : this.handleV2(exchange)
    }
    if (path === '/api/config' && method === 'GET') return send(200, this.config(false))
    if (path === '/api' && method === 'POST') return this.createUser(object, send)
    return this.handleV1({ method, path, body: object, req, res, send })
  }

  private handleV1({ method, path, body, req, res, send }: Exchange): void {
    const error = (type: number, address: string, description: string) =>
      send(200, [{ error: { type, address, description } }])
    const match = /^\/api\/([^/]+)(\/config|\/lights(?:\/(\d+)(\/state)?)?)?$/.exec(path)
    if (!match) return error(3, path, `resource, ${path}, not available`)
    const [, user, section, id, state] = match
    if (!this.users.has(user!)) return error(1, section ?? '/', 'unauthorized user')
    const lights = () => Object.fromEntries(this.lights.map((light) => [String(light.number), light.v1()]))
    if (section === undefined) {
      const empty = { groups: {}, schedules: {}, scenes: {}, rules: {}, sensors: {}, resourcelinks: {} }
      return send(200, { lights: lights(), config: this.config(true), ...empty })
    }
    if (section === '/config') {
      if (method !== 'PUT') return send(200, this.config(true))
      if (body.linkbutton === true) this.pressLinkButton()
      return send(
        200,
        Object.entries(body).map(([name, value]) => ({ success: { [`/config/${name}`]: value } })),
      )
    }
    if (id === undefined) return send(200, lights())
    const light = this.lights[Number(id) - 1]
    if (!light) return error(3, `/lights/${id}`, `resource, /lights/${id}, not available`)
    if (!state) return send(200, light.v1())
    if (method !== 'PUT') return error(4, path, `method, ${method}, not available for resource, ${path}`)
    if (this.misbehave(req, res, () => send(503, 'busy'))) return
    const change = v1Change(body)
    if ('invalid' in change)
      return error(6, `/lights/${id}/state/${change.invalid}`, `parameter, ${change.invalid}, not available`)
    if (!light.connected) {
      return send(
        200,
        Object.keys(body).map((name) => ({
          error: {
            type: 201,
            address: `/lights/${id}/state/${name}`,
            description: `parameter, ${name}, is not modifiable. Device is set to off.`,
          },
        })),
      )
    }
    if (light.apply(change)) this.lightChanged(light, 'v1', Object.keys(change))
    send(
      200,
      Object.entries(body).map(([name, value]) => ({ success: { [`/lights/${id}/state/${name}`]: value } })),
    )
  }

  private handleV2({ method, path, body, req, res, send }: Exchange): void {
    const ok = (data: unknown[]) => send(200, { errors: [], data })
    const fail = (status: number, description: string) => send(status, { errors: [{ description }], data: [] })
    const match = /^\/clip\/v2\/resource\/(light|zigbee_connectivity|bridge)(?:\/([\w-]+))?$/.exec(path)
    if (!match) return fail(404, 'Not Found')
    const [, type, id] = match
    const all: Resource[] =
      type === 'light'
        ? this.lights.map((light) => light.v2())
        : type === 'zigbee_connectivity'
          ? this.lights.map((light) => light.connectivity())
          : [{ id: this.lights[0]?.deviceId ?? randomUUID(), bridge_id: this.bridgeId.toLowerCase(), type: 'bridge' }]
    if (method === 'GET') {
      if (id === undefined) return ok(all)
      const found = all.find((resource) => resource.id === id)
      return found ? ok([found]) : fail(404, 'Not Found')
    }
    const light = this.lights.find((candidate) => candidate.id === id)
    if (method !== 'PUT' || type !== 'light' || !light) return fail(id && !light ? 404 : 405, 'Not Found')
    if (this.misbehave(req, res, () => fail(503, 'service unavailable'))) return
    const change = v2Change(body, light)
    if ('invalid' in change) return fail(400, `invalid property: ${change.invalid}`)
    const data = [{ rid: light.id, rtype: 'light' }]
    if (!light.connected) {
      // What a bridge answers for a lamp without power: accepted, with a warning, and nothing changes.
      const description = `device (light) has communication issues, command (${Object.keys(body).join(', ')}) may not have effect`
      return send(207, { errors: [{ description }], data })
    }
    if (light.apply(change)) this.lightChanged(light, 'v2', Object.keys(change))
    ok(data)
  }

  /** Applies {@link fault} to a light command; true when the fault answered it (or swallowed it). */
  private misbehave(req: IncomingMessage, res: ServerResponse, busy: () => void): boolean {
    switch (this.fault) {
      case 'hang':
        this.hanging.add(res)
        res.on('close', () => this.hanging.delete(res))
        return true
      case 'busy-once':
        this.fault = 'none'
        busy()
        return true
      case 'reset-once':
        this.fault = 'none'
        req.socket.destroy()
        return true
      case 'none':
        return false
    }
  }

  private openStream(req: IncomingMessage, res: ServerResponse): void {
    if (this.refusingStreams) {
      res.writeHead(503, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ errors: [{ description: 'service unavailable' }], data: [] }))
      return
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
    res.write(': hi\n\n')
    this.streams.add(res)
    this.emit('event', { type: 'stream', open: this.streams.size })
    req.socket.on('close', () => {
      if (this.streams.delete(res)) this.emit('event', { type: 'stream', open: this.streams.size })
    })
  }

  /** Sends one `update` event carrying `resources` to every open stream. */
  private push(resources: Resource[]): void {
    if (this.streams.size === 0) return
    const now = new Date()
    const event = {
      creationtime: now.toISOString().replace(/\.\d+Z$/, 'Z'),
      data: resources,
      id: randomUUID(),
      type: 'update',
    }
    const frame = `id: ${Math.floor(now.getTime() / 1000)}:${this.eventSequence++}\ndata: ${JSON.stringify([event])}\n\n`
    for (const stream of this.streams) stream.write(frame)
  }

  /** Pushes what changed about `light` (only the changed attributes, as a bridge does) and tells the console. */
  private lightChanged(light: SimulatedLight, by: 'v1' | 'v2' | 'app', fields: string[]): void {
    const full = light.v2()
    const attributes = new Set<string>()
    for (const field of fields) {
      if (field === 'on') attributes.add('on')
      if (field === 'brightness') attributes.add('dimming')
      if (field === 'xy' || field === 'mirek') attributes.add('color').add('color_temperature')
    }
    const update: Resource = { id: light.id, id_v1: full.id_v1, owner: full.owner, type: 'light' }
    for (const attribute of attributes) if (attribute in full) update[attribute] = full[attribute]
    this.push([update])
    const state = {
      on: light.on,
      brightness: light.brightness,
      ...(light.mode === 'ct' ? { mirek: light.mirek } : { xy: light.xy }),
    }
    this.emit('event', { type: 'light', number: light.number, by, state })
  }

  private createUser(body: Record<string, unknown>, send: Send): void {
    const error = (type: number, address: string, description: string) =>
      send(200, [{ error: { type, address, description } }])
    const devicetype = body.devicetype
    if (typeof devicetype !== 'string' || !/^[^#]{0,20}#[^#]{0,19}$/.test(devicetype))
      return error(7, '/devicetype', `invalid value, ${String(devicetype)}, for parameter, devicetype`)
    if (!this.linkButtonOpen) {
      this.emit('event', { type: 'refused', devicetype })
      return error(101, '', 'link button not pressed')
    }
    const username = randomBytes(30).toString('base64url').slice(0, 40)
    const clientkey = randomBytes(16).toString('hex').toUpperCase()
    this.users.set(username, { devicetype, clientkey })
    this.emit('event', { type: 'paired', username, devicetype })
    send(200, [{ success: body.generateclientkey === true ? { username, clientkey } : { username } }])
  }
}

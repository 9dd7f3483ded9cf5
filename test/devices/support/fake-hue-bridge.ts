import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request the bridge received. */
export interface BridgeRequest {
  readonly method: string
  readonly path: string
  readonly body: unknown
}

/** How the bridge misbehaves for the next light-state request. */
export type BridgeFault = 'none' | 'hang' | 'busy-once' | 'reset-once' | 'unreachable'

type LightRecord = Record<string, unknown> & { state: Record<string, unknown> }

const CONFIG = {
  name: 'Test bridge',
  bridgeid: '001788FFFE000001',
  modelid: 'BSB002',
  apiversion: '1.50.0',
  swversion: '1950207110',
  mac: '00:17:88:00:00:01',
}

/** A colour lamp (gamut C) and a white-ambiance lamp, as a real bridge describes them. */
function defaultLights(): Record<string, LightRecord> {
  return {
    '1': {
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
      name: 'Bath',
      modelid: 'LCT015',
      manufacturername: 'Signify Netherlands B.V.',
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
      uniqueid: '00:17:88:01:00:00:00:01-0b',
      swversion: '1.50.2_r30933',
    },
    '2': {
      state: { on: false, bri: 254, ct: 366, alert: 'none', colormode: 'ct', mode: 'homeautomation', reachable: true },
      type: 'Color temperature light',
      name: 'Hall',
      modelid: 'LTW001',
      manufacturername: 'Signify Netherlands B.V.',
      productname: 'Hue ambiance lamp',
      capabilities: { certified: true, control: { mindimlevel: 1000, maxlumen: 806, ct: { min: 153, max: 454 } } },
      uniqueid: '00:17:88:01:00:00:00:02-0b',
      swversion: '1.50.2_r30933',
    },
  }
}

/**
 * A local Hue bridge over plain HTTP answering the endpoints node-hue-api calls (`/api/config`, `/api/<user>`,
 * `/api/<user>/lights`, `/api/<user>/lights/<id>`, `PUT /api/<user>/lights/<id>/state`). It keeps the light
 * state, records every request, and can be told to misbehave.
 */
export class FakeHueBridge {
  readonly requests: BridgeRequest[] = []
  readonly lights = defaultLights()
  fault: BridgeFault = 'none'
  private server: Server | undefined
  private readonly hanging = new Set<ServerResponse>()
  private readonly listeners = new Set<(request: BridgeRequest) => void>()
  port = 0

  constructor(readonly username: string) {}

  async start(port = 0): Promise<number> {
    const server = createServer((req, res) => void this.handle(req, res))
    this.server = server
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    this.port = (server.address() as AddressInfo).port
    return this.port
  }

  /** Stops listening (clients then get ECONNREFUSED). */
  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy()
    this.hanging.clear()
    const server = this.server
    this.server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** The light-state bodies PUT so far for light `id`. */
  stateBodies(id: string): unknown[] {
    return this.requests
      .filter((r) => r.method === 'PUT' && r.path === `/api/${this.username}/lights/${id}/state`)
      .map((r) => r.body)
  }

  /** Resolves with the next request matching `predicate`. */
  nextRequest(predicate: (request: BridgeRequest) => boolean = () => true): Promise<BridgeRequest> {
    return new Promise((resolve) => {
      const listener = (request: BridgeRequest) => {
        if (!predicate(request)) return
        this.listeners.delete(listener)
        resolve(request)
      }
      this.listeners.add(listener)
    })
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const path = (req.url ?? '/').replace(/\/+$/, '')
    const request: BridgeRequest = { method: req.method ?? 'GET', path, body: text ? JSON.parse(text) : undefined }
    this.requests.push(request)
    for (const listener of [...this.listeners]) listener(request)
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (path === '/api/config') return send(200, CONFIG)
    const match = /^\/api\/([^/]+)(?:\/lights(?:\/(\d+)(\/state)?)?)?$/.exec(path)
    if (!match) return send(404, [{ error: { type: 3, address: path, description: 'resource not available' } }])
    const [, user, id, state] = match
    if (user !== this.username)
      return send(200, [{ error: { type: 1, address: '/', description: 'unauthorized user' } }])
    if (path === `/api/${user}`)
      return send(200, {
        lights: this.lights,
        groups: {},
        config: CONFIG,
        schedules: {},
        scenes: {},
        rules: {},
        sensors: {},
        resourcelinks: {},
      })
    if (id === undefined) return send(200, this.lights)
    const light = this.lights[id]
    if (!light)
      return send(200, [
        { error: { type: 3, address: `/lights/${id}`, description: `resource, /lights/${id}, not available` } },
      ])
    if (!state) return send(200, light)
    if (req.method !== 'PUT') return send(405, [])
    switch (this.fault) {
      case 'hang':
        this.hanging.add(res)
        return
      case 'busy-once':
        this.fault = 'none'
        return send(503, 'busy')
      case 'reset-once':
        this.fault = 'none'
        req.socket.destroy()
        return
      case 'unreachable':
        return send(200, [
          {
            error: {
              type: 201,
              address: `/lights/${id}/state/on`,
              description: 'parameter, on, is not modifiable. Device is set to off.',
            },
          },
        ])
    }
    const body = request.body as Record<string, unknown>
    Object.assign(light.state, body)
    delete light.state.transitiontime
    if (body.xy) light.state.colormode = 'xy'
    if (body.ct) light.state.colormode = 'ct'
    send(
      200,
      Object.entries(body).map(([key, value]) => ({ success: { [`/lights/${id}/state/${key}`]: value } })),
    )
  }
}

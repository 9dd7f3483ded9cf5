import { createRequire } from 'node:module'
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import type { Device as SimulatorDevice } from 'tplink-smarthome-simulator'
import { klapAuthHash } from '../devices/kasa/klap-session.js'
import { LegacyEndpoint, type LegacyOutcome } from './kasa-legacy.js'
import { KlapEndpoint } from './kasa-klap.js'

/** The default port Kasa bulbs answer discovery (UDP) and legacy commands (TCP) on. */
export const KASA_PORT = 9999

/** How a simulated bulb talks: the legacy XOR protocol on TCP/UDP, or KLAP over HTTP (newer firmware). */
export type KasaProtocolName = 'legacy' | 'klap'

/** One request a simulated bulb received, as decrypted JSON, and what it did with it. */
export interface KasaRequest {
  /** `Date.now()` when it arrived. */
  readonly at: number
  /** The bulb's alias. */
  readonly bulb: string
  readonly via: 'tcp' | 'udp' | 'klap'
  readonly request: Record<string, unknown>
  /** `answered`, or the fault that swallowed it. */
  readonly outcome: 'answered' | 'hung' | 'reset'
}

/** A bulb's light state as the Kasa app (or a wall switch) would change it: Kasa's own field names. */
export interface KasaLightChange {
  readonly on_off?: 0 | 1
  /** 1–100. */
  readonly brightness?: number
  /** 0–360. */
  readonly hue?: number
  /** 0–100. */
  readonly saturation?: number
  /** Kelvin; 0 switches to hue/saturation. */
  readonly color_temp?: number
}

export interface KasaSimulatorOptions {
  /** Default 127.0.0.1. */
  readonly host?: string
  /**
   * The discovery port (UDP) genlock discover and the Kasa app send to; bulbs take the ports after it. Default
   * 9999; 0 puts everything on free ports.
   */
  readonly port?: number
  /** Number of bulbs (colour LB130s and tunable-white LB120s, alternating). Default 2. */
  readonly count?: number
  /** The models, one per bulb (`lb100`, `lb120`, `lb130`, `kl430`); overrides `count`. */
  readonly models?: readonly string[]
  /** Default `legacy`. KLAP bulbs listen on HTTP only and do not answer legacy discovery. */
  readonly protocol?: KasaProtocolName
  /** The TP-Link account KLAP bulbs are bound to. Default: empty (a bulb never connected to the cloud). */
  readonly credentials?: { readonly username: string; readonly password: string }
}

/** Most requests kept per bulb in {@link SimulatedKasaBulb.requests}: `genlock sim kasa` may run for days. */
const REQUEST_LOG_LIMIT = 1000

/**
 * One simulated bulb on the network: the device model (state, replies, error codes) is tplink-smarthome-simulator's,
 * the network ends (legacy TCP/UDP or KLAP) are ours so that tests can make the bulb misbehave: hang, drop the next
 * connection, leave the network, or be changed "from the app" behind genlock's back.
 */
export class SimulatedKasaBulb {
  /** The most recent requests (up to 1000), oldest first. */
  readonly requests: KasaRequest[] = []
  private hung = false
  private resetsAhead = 0
  private readonly listeners = new Set<(request: KasaRequest) => void>()

  /** @internal Built by {@link KasaSimulator.start}. */
  constructor(
    readonly alias: string,
    /** Upper case, e.g. `LB130`. */
    readonly model: string,
    readonly mac: string,
    readonly protocol: KasaProtocolName,
    private readonly device: SimulatorDevice,
    private endpoint: LegacyEndpoint | KlapEndpoint | undefined = undefined,
  ) {
    this.behaveLikeARealBulb()
  }

  get host(): string {
    return this.endpoint!.host
  }

  /** The port it listens on: TCP and UDP for legacy bulbs, HTTP for KLAP bulbs. */
  get port(): number {
    return this.endpoint!.port
  }

  /** @internal */
  attach(endpoint: LegacyEndpoint | KlapEndpoint): void {
    this.endpoint = endpoint
  }

  /** The bulb's light state now (`on_off`, `brightness`, `hue`, `saturation`, `color_temp`, `mode`). */
  get lightState(): Readonly<Record<string, unknown>> {
    return { ...(this.device.data.system.sysinfo as unknown as { light_state: Record<string, unknown> }).light_state }
  }

  /** A hung bulb reads requests and never answers (until `hang(false)`), like a wedged Kasa socket. */
  hang(hung: boolean): void {
    this.hung = hung
  }

  /** Resets the connection of the next `count` requests instead of answering (a flaky network, a dropped frame). */
  resetNext(count = 1): void {
    this.resetsAhead += count
  }

  /** Takes the bulb off the network (connections refused) until {@link plugIn}. */
  async unplug(): Promise<void> {
    await this.endpoint?.close()
  }

  /** Puts the bulb back on the network, on the same port. */
  async plugIn(): Promise<void> {
    await this.endpoint?.open()
  }

  /** A KLAP bulb restarting: every session is forgotten, so the next request is refused (403) until a new handshake. */
  forgetSessions(): void {
    if (this.endpoint instanceof KlapEndpoint) this.endpoint.forgetSessions()
  }

  /** Changes the light as the Kasa app, a schedule or a wall switch would: genlock did not ask for it. */
  changeFromApp(change: KasaLightChange): void {
    const api = this.device.api as unknown as Record<string, Record<string, (args: unknown) => unknown>>
    api['smartlife.iot.smartbulb.lightingservice']!.transition_light_state!({ ...change })
  }

  /** Calls `listener` with every request from now on; returns the unsubscribe function. */
  onRequest(listener: (request: KasaRequest) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** @internal Handles one decrypted request from any transport. */
  handle(text: string, via: KasaRequest['via']): LegacyOutcome {
    let request: Record<string, unknown>
    try {
      request = JSON.parse(text) as Record<string, unknown>
    } catch {
      request = { unparsable: text }
    }
    const outcome = this.hung ? 'hung' : this.resetsAhead > 0 && via !== 'udp' ? 'reset' : 'answered'
    if (outcome === 'reset') this.resetsAhead--
    this.record({ at: Date.now(), bulb: this.alias, via, request, outcome })
    if (outcome === 'hung') return { fault: 'hang' }
    if (outcome === 'reset') return { fault: 'reset' }
    return { answer: this.device.processMessage(text, plain).response.toString('utf8') }
  }

  /** @internal Whether it hangs now (a KLAP bulb then answers no handshake either). */
  get isHung(): boolean {
    return this.hung
  }

  /** @internal A discovery packet that reached the simulator's shared port: legacy bulbs answer from their own. */
  answerDiscovery(message: Buffer, from: RemoteInfo): void {
    if (this.endpoint instanceof LegacyEndpoint) this.endpoint.answerDiscovery(message, from)
  }

  /** @internal */
  async close(): Promise<void> {
    await this.endpoint?.close()
  }

  /**
   * Real bulbs keep their look (`mode`, `hue`, `saturation`, `color_temp`, `brightness`) in `light_state` while on and
   * move it to `light_state.dft_on_state` while off. tplink-smarthome-simulator only sets the fields it was given, so a
   * bulb switched on kept its look in a stale `dft_on_state` and reported none: its state would look changed from
   * outside after every "on". Its transition_light_state is wrapped to unfold and fold the look as bulbs do.
   */
  private behaveLikeARealBulb(): void {
    const sysinfo = this.device.data.system.sysinfo as unknown as { light_state: Record<string, unknown> }
    const api = this.device.api as unknown as Record<string, Record<string, (args: unknown) => unknown>>
    const service = api['smartlife.iot.smartbulb.lightingservice']!
    const transition = service.transition_light_state!
    service.transition_light_state = (args) => {
      const state = sysinfo.light_state
      const folded = state.dft_on_state as Record<string, unknown> | undefined
      if (folded) {
        delete state.dft_on_state
        Object.assign(state, folded)
      }
      const result = transition(args)
      if (state.on_off === 0) {
        const look: Record<string, unknown> = {}
        for (const key of LOOK_FIELDS) {
          if (key in state) look[key] = state[key]
          delete state[key]
        }
        state.dft_on_state = look
      }
      return result
    }
  }

  private record(entry: KasaRequest): void {
    this.requests.push(entry)
    if (this.requests.length > REQUEST_LOG_LIMIT) this.requests.splice(0, this.requests.length - REQUEST_LOG_LIMIT)
    for (const listener of [...this.listeners]) listener(entry)
  }
}

/** The fields of a Kasa bulb's look. */
const LOOK_FIELDS = ['mode', 'hue', 'saturation', 'color_temp', 'brightness'] as const

/** The device model's "encryption" step, left to our transports. */
const plain = (text: string) => Buffer.from(text, 'utf8')

/**
 * Kasa bulbs on the network: colour LB130s and tunable-white LB120s (or the `models` asked for), each on its own
 * port, speaking the legacy protocol or KLAP, plus a discovery responder on `port` that hands every discovery packet
 * to all legacy bulbs (so one `genlock discover` finds them all, as a broadcast would). Every bulb keeps a request
 * log and has fault hooks ({@link SimulatedKasaBulb}); this is what `genlock sim kasa` serves and what the Kasa
 * adapter's tests run against.
 *
 * @example
 * const sim = await KasaSimulator.start({ port: 0, count: 3 })
 * sim.bulbs[0] // { alias: 'Kasa bulb 1', host: '127.0.0.1', port: 40123, ... }
 * sim.bulbs[0].hang(true)
 */
export class KasaSimulator {
  private constructor(
    readonly bulbs: readonly SimulatedKasaBulb[],
    readonly discoveryPort: number,
    private readonly discovery: Socket,
  ) {}

  static async start(options: KasaSimulatorOptions = {}): Promise<KasaSimulator> {
    const { Device } = loadSimulator()
    const host = options.host ?? '127.0.0.1'
    const base = options.port ?? KASA_PORT
    const protocol = options.protocol ?? 'legacy'
    const authHash = klapAuthHash(options.credentials?.username ?? '', options.credentials?.password ?? '')
    const models =
      options.models ?? Array.from({ length: options.count ?? 2 }, (_, i) => (i % 2 === 0 ? 'lb130' : 'lb120'))
    const discovery = createSocket({ type: 'udp4' })
    await new Promise<void>((resolve, reject) => {
      discovery.once('error', (error: NodeJS.ErrnoException) =>
        reject(new Error(`cannot listen for Kasa discovery on udp ${host}:${base}: ${error.message}`)),
      )
      discovery.bind(base, host, () => resolve())
    })
    const bulbs: SimulatedKasaBulb[] = []
    try {
      for (const [i, model] of models.entries()) {
        const n = i + 1
        const mac = `50:c7:bf:00:${Math.floor(n / 256)
          .toString(16)
          .padStart(2, '0')}:${(n % 256).toString(16).padStart(2, '0')}`
        const alias = `Kasa bulb ${n}`
        const device = new Device({ model, address: host, data: { alias, mac } })
        const bulb = new SimulatedKasaBulb(alias, model.toUpperCase(), mac, protocol, device)
        const port = base === 0 ? 0 : base + n
        const endpoint = await (
          protocol === 'klap'
            ? KlapEndpoint.listen(
                host,
                port,
                authHash,
                (text) => bulb.handle(text, 'klap'),
                () => bulb.isHung,
              )
            : LegacyEndpoint.listen(host, port, (text, via) => bulb.handle(text, via))
        ).catch((error: Error) => {
          throw new Error(`cannot start Kasa bulb ${n} on ${host}:${port}: ${error.message}`)
        })
        bulb.attach(endpoint)
        bulbs.push(bulb)
      }
    } catch (error) {
      discovery.close()
      await Promise.allSettled(bulbs.map((bulb) => bulb.close()))
      throw error
    }
    const simulator = new KasaSimulator(bulbs, discovery.address().port, discovery)
    discovery.on('message', (message, from) => simulator.broadcast(message, from))
    return simulator
  }

  /** Calls `listener` with every request any bulb receives. */
  onRequest(listener: (bulb: SimulatedKasaBulb, request: KasaRequest) => void): void {
    for (const bulb of this.bulbs) bulb.onRequest((request) => listener(bulb, request))
  }

  async stop(): Promise<void> {
    this.discovery.close()
    await Promise.allSettled(this.bulbs.map((bulb) => bulb.close()))
  }

  /** A discovery packet to the shared port reaches every bulb, as a broadcast would. */
  private broadcast(message: Buffer, from: RemoteInfo): void {
    for (const bulb of this.bulbs) bulb.answerDiscovery(message, from)
  }
}

/**
 * tplink-smarthome-simulator, the device model behind every simulated bulb. It is CommonJS; `require` loads it the
 * same way under node, tsx and vitest (see src/devices/kasa/tplink-api.ts for why import() does not).
 */
function loadSimulator(): typeof import('tplink-smarthome-simulator') {
  try {
    return createRequire(import.meta.url)('tplink-smarthome-simulator') as typeof import('tplink-smarthome-simulator')
  } catch {
    throw new Error(
      'simulating Kasa bulbs needs the tplink-smarthome-simulator package: npm install tplink-smarthome-simulator',
    )
  }
}

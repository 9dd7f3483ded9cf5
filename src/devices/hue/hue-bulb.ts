import { readFileSync } from 'node:fs'
import type { BulbCapabilities, BulbCommand, BulbState, CommandOrigin } from '../bulb.js'
import type { CommandSignal } from '../command-queue.js'
import { HUE_GAMUTS, type Gamut } from '../color.js'
import { DeviceCommandError, DeviceError, DeviceUnreachableError } from '../errors.js'
import { QueuedBulb, type QueuedBulbOptions, type SendContext } from '../queued-bulb.js'
import { resolveCommand, type ResolvedCommand } from '../resolve-command.js'
import { BridgeHttpError } from './bridge-https.js'
import { openInsecureV1, openVerifiedV1, type V1LightsApi } from './clip-v1.js'
import { findV2Light, fromV2Light, lampOf, toV2LightBody, type HueLamp, type V2Light } from './clip-v2.js'
import { CommandGate } from './command-gate.js'
import type { Backoff } from './event-stream.js'
import { HueBridgeClient, type LightPush } from './hue-bridge-client.js'
import { isHueEcho } from './hue-echo.js'
import { hueDeviceError } from './hue-errors.js'
import { fromHueLightState, toHueLightState, type HueLightStateReport } from './hue-state.js'

export interface HueBulbOptions extends QueuedBulbOptions {
  readonly id: string
  readonly name?: string
  readonly capabilities: BulbCapabilities
  readonly host: string
  /** Default 443, or 80 when `insecure`. */
  readonly port?: number
  /** The bridge application key (a secret: it never appears in errors or logs). */
  readonly username: string
  /** The light: its CLIP v2 id, or its v1 number (mapped through the v2 lights' `id_v1`). */
  readonly light: number | string
  /** Plain HTTP and CLIP v1 through node-hue-api (emulators, the round v1 bridge), instead of HTTPS. */
  readonly insecure?: boolean
  /** Used until the bridge reports the lamp's own gamut. Default C. */
  readonly gamut?: 'A' | 'B' | 'C'
  /**
   * CAs (PEM) to trust instead of the Hue bridge root CA — a simulator's (`genlock sim hue` writes its CA to a
   * file) or a test bridge's. The certificate is still verified, chain and bridge-id name; only the root differs.
   */
  readonly ca?: string | readonly string[]
  /** {@link ca} from a PEM file, read when the bulb first connects (device files' `ca:`). */
  readonly caFile?: string
  /** Reconnect backoff of the bridge's event stream. Default 1 s doubling to 30 s. */
  readonly streamBackoff?: Backoff
  /**
   * How often the light is read while the bridge gives no event stream: CLIP v1, or not connected yet. Default
   * {@link HUE_POLL_MS}; 0 never. Once the bridge turns out to have CLIP v2, its event stream replaces polling.
   */
  readonly pollMs?: number
}

/**
 * Lights on a bridge with CLIP v1 only are read every 5 s, as Kasa bulbs are and as Home Assistant's Hue integration
 * read v1 bridges: a change made in the Hue app is seen within seconds, for one small GET per light (ten lights on
 * one bridge: two reads a second).
 */
export const HUE_POLL_MS = 5000

/** How one light is driven: CLIP v2 (with pushed state) or CLIP v1 (node-hue-api). */
interface LightDriver {
  send(command: ResolvedCommand, signal: CommandSignal): Promise<void>
  read(signal: CommandSignal): Promise<BulbState>
}

/**
 * A Philips Hue light behind a bridge. Where the bridge's software has CLIP v2 (since 2021), commands are
 * `PUT /clip/v2/resource/light/<id>` over HTTPS with the bridge's certificate verified, and the bridge's event
 * stream keeps the state live: changes made in the Hue app or at a switch, and the lamp's reachability
 * (`zigbee_connectivity`). Older bridges, and `insecure: true`, use CLIP v1 through node-hue-api; the log says
 * which, and the light is polled ({@link HUE_POLL_MS}). Either way a reported state goes through the bulb layer's
 * outside-change check, with {@link isHueEcho} as the tolerance. Commands to one bridge stay within ~10 a second; a
 * flood for one light is merged, latest wins.
 */
export class HueBulb extends QueuedBulb {
  private readonly options: HueBulbOptions & { readonly port: number }
  private readonly fallbackGamut: Gamut
  private client: HueBridgeClient | undefined
  private gate: CommandGate | undefined
  private driver: Promise<LightDriver> | undefined
  private unfollow: (() => void) | undefined
  /**
   * The lamp's gamut and white range as the bridge last reported them. A holder, so the echo matcher given to the
   * bulb layer (before `this` exists) always sees the newest.
   */
  private readonly lamp: { current: HueLamp }
  private capabilitiesChecked = false

  constructor(options: HueBulbOptions) {
    const port = options.port ?? (options.insecure ? 80 : 443)
    const defaultPort = options.insecure ? 80 : 443
    const fallbackGamut = HUE_GAMUTS[options.gamut ?? 'C']
    const lamp = { current: { gamut: fallbackGamut, mirek: { min: 153, max: 500 } } }
    super(
      {
        id: options.id,
        name: options.name ?? options.id,
        adapter: 'hue',
        capabilities: options.capabilities,
        description: `${options.id} (hue ${options.host}${port === defaultPort ? '' : `:${port}`} light ${options.light})`,
      },
      // What the bridge reports back is our own command once its colour went through the gamut and kelvin through
      // whole mirek: not a change made outside genlock.
      {
        ...options,
        echo: (commanded, reported) => isHueEcho(commanded, reported, lamp.current),
        pollMs: options.pollMs ?? HUE_POLL_MS,
      },
    )
    this.options = { ...options, port }
    this.fallbackGamut = fallbackGamut
    this.lamp = lamp
  }

  /** Connects to the bridge and reads the light once; a bridge that is down is logged, not thrown (commands retry). */
  override async start(): Promise<void> {
    await super.start()
    await this.probe()
  }

  override async stop(): Promise<void> {
    this.gate?.close(new DeviceError(this.description, 'was stopped'))
    this.gate = undefined
    await super.stop()
    this.unfollow?.()
    this.unfollow = undefined
    this.driver = undefined
    this.client?.release()
    this.client = undefined
  }

  /** Validates at once, then goes through the bridge's rate limit, where a flood of commands is merged. */
  override setState(command: BulbCommand, origin?: CommandOrigin): Promise<BulbState> {
    try {
      resolveCommand(this.description, this.capabilities, command)
      this.gate ??= new CommandGate(this.bridge().limiter, (merged, from) => super.setState(merged, from))
    } catch (error) {
      return Promise.reject(error)
    }
    return this.gate.push(command, origin)
  }

  protected async send(command: ResolvedCommand, context: SendContext): Promise<BulbState> {
    const driver = await this.connect(context.signal)
    try {
      await driver.send(command, context.signal)
    } catch (error) {
      throw this.explain(error)
    }
    // The bridge answers a command with what it accepted, not the light's state: the state is what we asked for.
    return context.expected
  }

  protected async fetchState(signal: CommandSignal): Promise<BulbState> {
    const driver = await this.connect(signal)
    try {
      return await driver.read(signal)
    } catch (error) {
      throw this.explain(error)
    }
  }

  private bridge(): HueBridgeClient {
    if (this.client) return this.client
    const { host, port, username, streamBackoff } = this.options
    const ca = this.options.ca ?? this.readCaFile()
    this.client = HueBridgeClient.acquire(
      {
        host,
        port,
        key: username,
        ...(ca === undefined ? {} : { ca: typeof ca === 'string' ? [ca] : ca }),
        ...(streamBackoff ? { streamBackoff } : {}),
      },
      this.logger,
    )
    return this.client
  }

  private readCaFile(): string | undefined {
    const file = this.options.caFile
    if (file === undefined) return undefined
    try {
      return readFileSync(file, 'utf8')
    } catch (error) {
      throw new DeviceCommandError(this.description, `cannot read its ca file ${file}: ${(error as Error).message}`)
    }
  }

  private connect(signal: CommandSignal): Promise<LightDriver> {
    const driver = (this.driver ??= this.openDriver(signal).catch((error: unknown) => {
      if (this.driver === driver) this.driver = undefined // the next attempt connects afresh
      throw this.explain(error)
    }))
    return driver
  }

  private async openDriver(signal: CommandSignal): Promise<LightDriver> {
    const client = this.bridge()
    const { host, port, username, insecure, light } = this.options
    if (insecure) {
      this.logger.warn({ device: this.id }, `${this.description}: plain HTTP, CLIP v1 (insecure: true)`)
      return this.v1Driver(await openInsecureV1(host, port, username))
    }
    const api = await client.connect(signal)
    if (api.version === 'v1') {
      if (!/^\d+$/.test(String(light)))
        throw new DeviceCommandError(this.description, `the bridge has CLIP v1 only: name the light by its number`)
      return this.v1Driver(openVerifiedV1(host, port, username, client.https.agent, this.queue.timeoutMs))
    }
    const found = findV2Light(client.knownLights(), light)
    if (!found) {
      const names = client.knownLights().map((known) => `${known.id_v1?.replace('/lights/', '') ?? '?'} (${known.id})`)
      throw new DeviceCommandError(
        this.description,
        `the bridge has no light ${light}; it has ${names.join(', ') || 'none'}`,
      )
    }
    return this.v2Driver(client, found.id)
  }

  private v2Driver(client: HueBridgeClient, id: string): LightDriver {
    // The event stream keeps the state live from here on.
    this.stopPolling()
    this.unfollow?.()
    this.unfollow = client.follow(id, (push) => this.onPush(client, push))
    return {
      send: async (command, signal) => {
        const { status, body } = await client.putLight(id, toV2LightBody(command, this.lamp.current), signal)
        // 207: accepted, but the bridge cannot reach the lamp ("may not have effect").
        if (status === 207) throw new BridgeHttpError(207, describeErrors(body))
      },
      read: async (signal) => {
        const light = await client.readLight(id, signal)
        return this.stateOf(light, client.connected(light))
      },
    }
  }

  private v1Driver(api: V1LightsApi): LightDriver {
    const number = Number(this.options.light)
    return {
      send: async (command, signal) => {
        await this.bridge().limiter.acquire(signal)
        await api.setLightState(number, toHueLightState(command, this.lamp.current.gamut))
      },
      read: async () => {
        const light = await api.getLight(number)
        if (light.colorGamut) this.lamp.current = { ...this.lamp.current, gamut: light.colorGamut }
        this.checkV1Capabilities(light.state)
        const state = fromHueLightState(light.state)
        if (!state.reachable)
          throw new DeviceUnreachableError(this.description, 'the bridge says the light is not reachable')
        return state
      },
    }
  }

  /** Our state from a v2 light; notes the lamp's gamut and white range; unreachable lamps throw. */
  private stateOf(light: V2Light, connected: boolean): BulbState {
    this.lamp.current = lampOf(light, this.fallbackGamut)
    this.checkV2Capabilities(light)
    if (!connected) throw new DeviceUnreachableError(this.description, 'the bridge cannot reach the lamp')
    return fromV2Light(light, true)
  }

  private onPush(client: HueBridgeClient, push: LightPush): void {
    if (push.kind === 'resync') {
      void this.readStatus({ retries: 0 }).catch((error: unknown) =>
        this.logger.warn({ device: this.id, err: error }, `${this.description}: cannot read the light again`),
      )
    } else if (push.kind === 'connectivity') {
      if (push.connected) this.report({ ...this.state, reachable: true })
      else this.markReachable(false, new DeviceUnreachableError(this.description, 'the bridge cannot reach the lamp'))
    } else {
      this.lamp.current = lampOf(push.light, this.fallbackGamut)
      this.reportObserved(fromV2Light(push.light, client.connected(push.light)))
    }
  }

  /** Warns once when the device file promises more than the lamp has: the bridge would ignore those fields. */
  private warnMissing(missing: string[]): void {
    if (this.capabilitiesChecked) return
    this.capabilitiesChecked = true
    if (missing.length === 0) return
    this.logger.warn(
      { device: this.id, missing },
      `${this.description}: the bridge reports no ${missing.join(' or ')} for this lamp; fix capabilities in its device file`,
    )
  }

  private checkV1Capabilities(report: HueLightStateReport): void {
    this.warnMissing([
      ...(this.capabilities.color && report.xy === undefined ? ['color'] : []),
      ...(this.capabilities.colorTemp && report.ct === undefined ? ['colorTemp'] : []),
    ])
  }

  private checkV2Capabilities(light: V2Light): void {
    this.warnMissing([
      ...(this.capabilities.color && !light.color ? ['color'] : []),
      ...(this.capabilities.colorTemp && !light.color_temperature ? ['colorTemp'] : []),
    ])
  }

  private explain(error: unknown): Error {
    return hueDeviceError(error, this.description, this.options.username)
  }
}

function describeErrors(body: unknown): string {
  const errors = (body as { errors?: { description?: unknown }[] } | undefined)?.errors ?? []
  return errors.map((error) => String(error.description)).join('; ') || 'warning'
}

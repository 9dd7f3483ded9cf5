import type { LightState, LightStateInput } from 'tplink-smarthome-api/lib/bulb/lighting.js'
import type { BulbCapabilities, BulbState } from '../bulb.js'
import type { CommandSignal } from '../command-queue.js'
import { hueSaturationToRgb, rgbToHueSaturation } from '../color.js'
import { DeviceCommandError, DeviceError, TransientDeviceError } from '../errors.js'
import { QueuedBulb, type QueuedBulbOptions, type SendContext } from '../queued-bulb.js'
import { echoWithin } from '../reported-state.js'
import type { ResolvedCommand } from '../resolve-command.js'
import { openKlapLighting, openLegacyLighting, type KasaLighting } from './kasa-lighting.js'
import { KlapAuthenticationError } from './klap-transport.js'

/** Which local protocol to speak: the legacy one (port 9999), KLAP (HTTP, newer firmware), or find out. */
export type KasaProtocol = 'legacy' | 'klap' | 'auto'

export interface KasaBulbOptions extends QueuedBulbOptions {
  readonly id: string
  readonly name?: string
  readonly capabilities: BulbCapabilities
  readonly host: string
  /** The legacy protocol's port. Default 9999. */
  readonly port?: number
  /** The legacy protocol's transport. Default tcp. */
  readonly transport?: 'tcp' | 'udp'
  /**
   * Default `auto`: the legacy protocol, and KLAP when the legacy port refuses the connection (newer firmware closes
   * it). The answer is remembered until the bulb is stopped.
   */
  readonly protocol?: KasaProtocol
  /** KLAP's HTTP port. Default 80. */
  readonly httpPort?: number
  /** The TP-Link account a KLAP bulb is bound to (the Kasa app's e-mail and password). Default empty. */
  readonly username?: string
  readonly password?: string
}

/**
 * Kasa bulbs take and report whole-number brightness and kelvin, and colour as whole degrees of hue and whole percent
 * of saturation: at most 0.009 apart on the hue/saturation disc from the RGB genlock asked for.
 */
const KASA_ECHO = echoWithin({ brightness: 0, mireds: 1, color: 0.02 })

/** The `lighting.setLightState` body for a resolved command. */
export function toKasaLightState(command: ResolvedCommand): LightStateInput {
  const state: LightStateInput = {}
  if (command.on !== undefined) state.on_off = command.on ? 1 : 0
  if (command.brightness !== undefined) state.brightness = command.brightness
  if (command.color) {
    const { hue, saturation } = rgbToHueSaturation(command.color)
    // color_temp 0 switches a colour bulb from white mode to hue/saturation.
    Object.assign(state, { hue, saturation, color_temp: 0 })
  }
  if (command.colorTemp !== undefined) state.color_temp = command.colorTemp
  if (command.transition !== undefined) state.transition_period = command.transition
  return state
}

/** Our state from a Kasa light state; when off, the bulb reports its look in `dft_on_state`. */
export function fromKasaLightState(state: LightState, capabilities: BulbCapabilities): BulbState {
  const on = state.on_off === 1
  const look = (!on && state.dft_on_state) || state
  const base = { on, brightness: look.brightness ?? 100, reachable: true }
  if (look.color_temp && capabilities.colorTemp) return { ...base, colorTemp: look.color_temp }
  if (capabilities.color && look.hue !== undefined && look.saturation !== undefined && !look.color_temp) {
    return { ...base, color: hueSaturationToRgb(look.hue, look.saturation) }
  }
  return base
}

/**
 * A TP-Link Kasa smart bulb (LB100/LB110/LB120/LB130, KL series) over its local protocol: the legacy one through
 * tplink-smarthome-api (loaded on first use), or KLAP on newer firmware. Commands are `transition_light_state` with
 * `on_off`, `brightness`, `hue`/`saturation`, `color_temp` (kelvin) and `transition_period` (ms); the state is read with
 * `get_light_state` at start and by polling (`pollMs`).
 */
export class KasaBulb extends QueuedBulb {
  private readonly options: KasaBulbOptions & { port: number; httpPort: number }
  private protocol: KasaProtocol
  private lighting: Promise<KasaLighting> | undefined

  constructor(options: KasaBulbOptions) {
    const port = options.port ?? 9999
    const httpPort = options.httpPort ?? 80
    const shown =
      options.protocol === 'klap' ? (httpPort === 80 ? '' : `:${httpPort}`) : port === 9999 ? '' : `:${port}`
    super(
      {
        id: options.id,
        name: options.name ?? options.id,
        adapter: 'kasa',
        capabilities: options.capabilities,
        // Never the account: the description goes into every error and log line.
        description: `${options.id} (kasa ${options.host}${shown})`,
      },
      { ...options, echo: options.echo ?? KASA_ECHO },
    )
    this.options = { ...options, port, httpPort }
    this.protocol = options.protocol ?? 'auto'
  }

  /** Reads the bulb once; a bulb that is off the network is logged, not thrown (commands retry). */
  override async start(): Promise<void> {
    await super.start()
    await this.probe()
  }

  override async stop(): Promise<void> {
    await super.stop()
    const lighting = this.lighting
    this.lighting = undefined
    await lighting?.then((open) => open.close()).catch(() => undefined)
  }

  protected async send(command: ResolvedCommand, context: SendContext): Promise<BulbState> {
    const lighting = await this.connect(context.signal)
    try {
      await lighting.setLightState(toKasaLightState(command), context.signal.abortSignal)
    } catch (error) {
      throw this.explain(error)
    }
    return context.expected
  }

  protected async fetchState(signal: CommandSignal): Promise<BulbState> {
    const lighting = await this.connect(signal)
    try {
      return fromKasaLightState(await lighting.getLightState(signal.abortSignal), this.capabilities)
    } catch (error) {
      throw this.explain(error)
    }
  }

  private connect(signal: CommandSignal): Promise<KasaLighting> {
    this.lighting ??= this.open(signal.abortSignal).catch((error: unknown) => {
      this.lighting = undefined // the next attempt asks again
      throw this.explain(error)
    })
    return this.lighting
  }

  private async open(signal: AbortSignal): Promise<KasaLighting> {
    if (this.protocol === 'legacy') return this.openLegacy()
    if (this.protocol === 'klap') return this.openKlap(signal)
    let legacyError: unknown
    try {
      const lighting = await this.openLegacy()
      this.protocol = 'legacy'
      return lighting
    } catch (error) {
      // Only a closed legacy port says "try KLAP": a bulb that does not answer at all is off, not newer.
      if (!isRefused(error)) throw error
      legacyError = error
    }
    let lighting: KasaLighting
    try {
      lighting = await this.openKlap(signal)
    } catch (klapError) {
      if (klapError instanceof KlapAuthenticationError) throw klapError
      const tried =
        `tried the legacy protocol (tcp ${this.options.host}:${this.options.port}: ${messageOf(legacyError)}) ` +
        `and KLAP (http ${this.options.host}:${this.options.httpPort}: ${messageOf(klapError)})`
      // Both ports closed is a bulb that is not up yet; an HTTP server that is not KLAP is not a Kasa bulb at all.
      if (isRefused(klapError)) {
        throw new TransientDeviceError(this.description, `is unreachable: ${tried}`, { cause: klapError })
      }
      throw new DeviceCommandError(
        this.description,
        `speaks neither Kasa protocol: ${tried}. Check host and ports, or set protocol: legacy | klap`,
        { cause: klapError },
      )
    }
    this.protocol = 'klap'
    this.logger.info(
      { device: this.id },
      `${this.description}: legacy port ${this.options.port} closed, speaking KLAP on port ${this.options.httpPort}`,
    )
    return lighting
  }

  private openLegacy(): Promise<KasaLighting> {
    return openLegacyLighting({
      host: this.options.host,
      port: this.options.port,
      transport: this.options.transport ?? 'tcp',
      // The library's own timeout is a backstop only: the command queue's timeout (same length) names the device.
      timeoutMs: this.queue.timeoutMs + 500,
      device: this.description,
    })
  }

  private openKlap(signal: AbortSignal): Promise<KasaLighting> {
    return openKlapLighting(
      {
        host: this.options.host,
        port: this.options.httpPort,
        username: this.options.username ?? '',
        password: this.options.password ?? '',
        device: this.description,
      },
      signal,
    )
  }

  private explain(error: unknown): Error {
    if (error instanceof DeviceError) return error
    const message = messageOf(error)
    const code = (error as { code?: unknown } | null)?.code
    if (
      typeof code === 'string' ||
      /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EPIPE|timeout|socket/i.test(message)
    ) {
      return new TransientDeviceError(this.description, `connection failed: ${message}`, { cause: error })
    }
    return new DeviceCommandError(this.description, `refused the command: ${message}`, { cause: error })
  }
}

/** An error's message; a DeviceError's without the device's name in front (the caller names it once). */
function messageOf(error: unknown): string {
  if (error instanceof DeviceError) return error.message.slice(error.device.length + 1)
  return error instanceof Error ? error.message : String(error)
}

/** The port is closed (or the connection dropped at once): nothing listens there. */
function isRefused(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || /ECONNREFUSED/.test(messageOf(error))
}

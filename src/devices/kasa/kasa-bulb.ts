import type { LightState, LightStateInput } from 'tplink-smarthome-api/lib/bulb/lighting.js'
import type { BulbCapabilities, BulbState } from '../bulb.js'
import type { CommandSignal } from '../command-queue.js'
import { hueSaturationToRgb, rgbToHueSaturation } from '../color.js'
import { DeviceCommandError, DeviceError, TransientDeviceError } from '../errors.js'
import { QueuedBulb, type QueuedBulbOptions, type SendContext } from '../queued-bulb.js'
import { echoWithin } from '../reported-state.js'
import type { ResolvedCommand } from '../resolve-command.js'
import { tplinkApi } from './tplink-api.js'

export interface KasaBulbOptions extends QueuedBulbOptions {
  readonly id: string
  readonly name?: string
  readonly capabilities: BulbCapabilities
  readonly host: string
  /** Default 9999. */
  readonly port?: number
  /** Default tcp. */
  readonly transport?: 'tcp' | 'udp'
}

/**
 * Kasa bulbs take and report whole-number brightness and kelvin, and colour as whole degrees of hue and whole percent
 * of saturation: at most 0.009 apart on the hue/saturation disc from the RGB genlock asked for.
 */
const KASA_ECHO = echoWithin({ brightness: 0, mireds: 1, color: 0.02 })

/** The part of tplink-smarthome-api's Bulb we use. */
interface KasaLighting {
  getLightState(sendOptions?: object): Promise<LightState>
  setLightState(state: LightStateInput, sendOptions?: object): Promise<true>
}

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
 * A TP-Link Kasa smart bulb (LB100/LB110/LB120/LB130, KL series) over its local protocol, through
 * tplink-smarthome-api (loaded on first use): `lighting.setLightState` with `on_off`, `brightness`,
 * `hue`/`saturation`, `color_temp` (kelvin) and `transition_period` (ms).
 */
export class KasaBulb extends QueuedBulb {
  private readonly options: KasaBulbOptions
  private lighting: Promise<KasaLighting> | undefined

  constructor(options: KasaBulbOptions) {
    const port = options.port ?? 9999
    super(
      {
        id: options.id,
        name: options.name ?? options.id,
        adapter: 'kasa',
        capabilities: options.capabilities,
        description: `${options.id} (kasa ${options.host}${port === 9999 ? '' : `:${port}`})`,
      },
      { ...options, echo: options.echo ?? KASA_ECHO },
    )
    this.options = { ...options, port }
  }

  /** Reads the bulb once; a bulb that is off the network is logged, not thrown (commands retry). */
  override async start(): Promise<void> {
    await super.start()
    await this.probe()
  }

  protected async send(command: ResolvedCommand, context: SendContext): Promise<BulbState> {
    const lighting = await this.connect()
    try {
      await lighting.setLightState(toKasaLightState(command), this.sendOptions())
    } catch (error) {
      throw this.explain(error)
    }
    return context.expected
  }

  protected async fetchState(_signal: CommandSignal): Promise<BulbState> {
    const lighting = await this.connect()
    try {
      return fromKasaLightState(await lighting.getLightState(this.sendOptions()), this.capabilities)
    } catch (error) {
      throw this.explain(error)
    }
  }

  private sendOptions() {
    // The library's own timeout is a backstop only: the command queue's timeout (same length) names the device.
    return { timeout: this.queue.timeoutMs + 500, transport: this.options.transport ?? 'tcp' }
  }

  private connect(): Promise<KasaLighting> {
    this.lighting ??= this.openConnection().catch((error: unknown) => {
      this.lighting = undefined // the next attempt asks again
      throw this.explain(error)
    })
    return this.lighting
  }

  private async openConnection(): Promise<KasaLighting> {
    const { Client } = tplinkApi()
    const client = new Client({ logLevel: 'silent', defaultSendOptions: this.sendOptions() })
    const device = await client.getDevice({ host: this.options.host, port: this.options.port })
    if (!('lighting' in device)) {
      throw new DeviceCommandError(this.description, `is a Kasa ${device.deviceType}, not a bulb`)
    }
    return device.lighting
  }

  private explain(error: unknown): Error {
    if (error instanceof DeviceError) return error
    const message = error instanceof Error ? error.message : String(error)
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

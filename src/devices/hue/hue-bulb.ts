import type { BulbCapabilities, BulbState } from '../bulb.js'
import type { CommandSignal } from '../command-queue.js'
import { HUE_GAMUTS, type Gamut } from '../color.js'
import { DeviceCommandError, DeviceError, DeviceUnreachableError, TransientDeviceError } from '../errors.js'
import { QueuedBulb, type QueuedBulbOptions, type SendContext } from '../queued-bulb.js'
import { applyCommand, type ResolvedCommand } from '../resolve-command.js'
import { fromHueLightState, toHueLightState, type HueLightStateBody, type HueLightStateReport } from './hue-state.js'

export interface HueBulbOptions extends QueuedBulbOptions {
  readonly id: string
  readonly name?: string
  readonly capabilities: BulbCapabilities
  readonly host: string
  /** Default 443, or 80 when `insecure`. */
  readonly port?: number
  /** The bridge application key (a secret: it never appears in errors or logs). */
  readonly username: string
  /** The bridge's id for the light. */
  readonly light: number | string
  /** Plain HTTP via node-hue-api's insecure local connection (test bridges, emulators), instead of HTTPS. */
  readonly insecure?: boolean
  /** Used until the bridge reports the lamp's own gamut. Default C. */
  readonly gamut?: 'A' | 'B' | 'C'
}

/** The part of node-hue-api's v3 Api we use, typed here so the adapter does not lean on the library's d.ts. */
interface HueLightsApi {
  getLight(
    id: number,
  ): Promise<{ state: HueLightStateReport; colorGamut: { red: XyPair; green: XyPair; blue: XyPair } | null }>
  getLightState(id: number): Promise<HueLightStateReport>
  setLightState(id: number, state: HueLightStateBody): Promise<boolean>
}
interface XyPair {
  x: number
  y: number
}
interface HueApi {
  lights: HueLightsApi
}

/**
 * A Philips Hue light behind a bridge, driven by node-hue-api (loaded on first use). Commands become one
 * `PUT /api/<user>/lights/<id>/state` with `on`, `bri`, `xy` (clipped to the lamp's gamut), `ct` and
 * `transitiontime`. The bridge being down is retried (and then reported unreachable); the bridge saying the
 * lamp is not reachable (error 201) is reported at once.
 */
export class HueBulb extends QueuedBulb {
  private readonly options: HueBulbOptions
  private readonly lightId: number
  private gamut: Gamut
  private api: Promise<HueApi> | undefined
  private capabilitiesChecked = false

  constructor(options: HueBulbOptions) {
    const port = options.port ?? (options.insecure ? 80 : 443)
    const defaultPort = options.insecure ? 80 : 443
    super(
      {
        id: options.id,
        name: options.name ?? options.id,
        adapter: 'hue',
        capabilities: options.capabilities,
        description: `${options.id} (hue ${options.host}${port === defaultPort ? '' : `:${port}`} light ${options.light})`,
      },
      options,
    )
    this.options = { ...options, port }
    this.lightId = Number(options.light)
    this.gamut = HUE_GAMUTS[options.gamut ?? 'C']
  }

  /** Connects to the bridge and reads the light once; a bridge that is down is logged, not thrown (commands retry). */
  override async start(): Promise<void> {
    await super.start()
    await this.probe()
  }

  protected async send(command: ResolvedCommand, context: SendContext): Promise<BulbState> {
    const body = toHueLightState(command, this.gamut)
    const api = await this.connect(context.signal)
    try {
      await api.lights.setLightState(this.lightId, body)
    } catch (error) {
      throw this.explain(error)
    }
    return applyCommand(this.state, command)
  }

  protected async fetchState(signal: CommandSignal): Promise<BulbState> {
    const api = await this.connect(signal)
    try {
      const light = await api.lights.getLight(this.lightId)
      if (light.colorGamut) {
        const { red, green, blue } = light.colorGamut
        this.gamut = { red, green, blue }
      }
      this.checkCapabilities(light.state)
      const state = fromHueLightState(light.state)
      if (!state.reachable)
        throw new DeviceUnreachableError(this.description, 'the bridge says the light is not reachable')
      return state
    } catch (error) {
      throw this.explain(error)
    }
  }

  /**
   * Warns once when the device file promises more than the lamp reports (colour on a white lamp): the bridge would
   * ignore those fields, so the lamp would silently not change colour.
   */
  private checkCapabilities(report: HueLightStateReport): void {
    if (this.capabilitiesChecked) return
    this.capabilitiesChecked = true
    const missing = [
      ...(this.capabilities.color && report.xy === undefined ? ['color'] : []),
      ...(this.capabilities.colorTemp && report.ct === undefined ? ['colorTemp'] : []),
    ]
    if (missing.length > 0) {
      this.logger.warn(
        { device: this.id, missing },
        `${this.description}: the bridge reports no ${missing.join(' or ')} for this lamp; fix capabilities in its device file`,
      )
    }
  }

  private connect(signal: CommandSignal): Promise<HueApi> {
    const api = (this.api ??= this.openConnection().catch((error: unknown) => {
      if (this.api === api) this.api = undefined // the next attempt connects afresh
      throw this.explain(error)
    }))
    // node-hue-api sends light states one at a time per connection and has no HTTP timeout on plain HTTP, so a
    // request the bridge never answers would block every later command. A timed-out attempt therefore retires
    // its connection; the next attempt opens a fresh one.
    signal.onAbort(() => {
      if (this.api === api) this.api = undefined
    })
    return api
  }

  private async openConnection(): Promise<HueApi> {
    const { host, port, username, insecure } = this.options
    if (insecure) {
      // node-hue-api prints its own warning to stdout, past any logger, unless this is set before it loads.
      process.env.NODE_HUE_API_USE_INSECURE_CONNECTION ??= '1'
      this.logger.warn({ device: this.id }, `${this.description}: plain HTTP to the bridge (insecure: true)`)
    }
    const { v3 } = await import('node-hue-api')
    const bootstrap = insecure ? v3.api.createInsecureLocal(host, port) : v3.api.createLocal(host, port)
    const api: unknown = await bootstrap.connect(username, undefined, this.queue.timeoutMs)
    return api as HueApi
  }

  /** A library error as one of ours, naming the device, with the username never in the message. */
  private explain(error: unknown): Error {
    if (error instanceof DeviceError) return error
    const raw = String((error as { message?: unknown } | null)?.message ?? error)
    const message = raw.split(this.options.username).join('<username>')
    const status = (error as { getHueErrorType?: () => number }).getHueErrorType?.() ?? -1
    if (/ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EAI_AGAIN|socket hang up|timeout/i.test(message)) {
      return new TransientDeviceError(this.description, `cannot reach the bridge: ${message}`)
    }
    if (status >= 500) return new TransientDeviceError(this.description, `the bridge is busy (HTTP ${status})`)
    if (status === 201 || /not reachable/i.test(message)) {
      return new DeviceUnreachableError(this.description, 'the bridge says the light is not reachable')
    }
    if (status === 1 || /unauthori[sz]ed user/i.test(message)) {
      return new DeviceCommandError(
        this.description,
        'the bridge refused the username (check the username / HUE_USERNAME)',
      )
    }
    return new DeviceCommandError(this.description, `the bridge refused the command: ${message}`)
  }
}

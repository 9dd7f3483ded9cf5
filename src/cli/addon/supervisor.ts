import { z } from 'zod'
import { CliError, EXIT } from '../errors.js'

/** Where add-ons reach the Supervisor's REST API (Home Assistant's add-on docs, "communication"). */
export const DEFAULT_SUPERVISOR_URL = 'http://supervisor'

/**
 * The Supervisor answers within a second on a Pi; 10 s leaves room for a busy start of Home Assistant without
 * hanging the add-on forever when the Supervisor is wedged.
 */
const TIMEOUT_MS = 10_000

/** The MQTT broker the Supervisor hands to an add-on with `services: [mqtt:need]` (the Mosquitto add-on's). */
export interface MqttService {
  readonly host: string
  readonly port: number
  readonly ssl: boolean
  /** `3.1.1` or `3.1`. */
  readonly protocol: string
  readonly username?: string | undefined
  readonly password?: string | undefined
}

/** What the add-on reads about itself from `/addons/self/info`. */
export interface AddonInfo {
  /** The port the Supervisor's ingress proxy connects to (config.yaml `ingress_port`). */
  readonly ingressPort: number
}

const mqttServiceSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65_535),
  ssl: z.boolean().default(false),
  protocol: z.string().default('3.1.1'),
  username: z.string().optional(),
  password: z.string().optional(),
})

const addonInfoSchema = z.object({ ingress_port: z.number().int().min(0).max(65_535) })

/** The Supervisor's envelope around every answer: `{ result: 'ok', data }` or `{ result: 'error', message }`. */
const envelopeSchema = z.union([
  z.object({ result: z.literal('ok'), data: z.unknown() }),
  z.object({ result: z.literal('error'), message: z.string().optional() }),
])

/**
 * The few Supervisor API calls the add-on makes at start, with the add-on's own token. Every failure is a
 * CliError that says what went wrong and what to do; none of them ever contains what the Supervisor answered
 * (the MQTT answer carries the broker password).
 *
 * @example
 * const supervisor = new SupervisorClient(process.env.GENLOCK_SUPERVISOR_URL, process.env.SUPERVISOR_TOKEN)
 * const { host, port } = await supervisor.mqttService()
 */
export class SupervisorClient {
  readonly url: string

  constructor(
    url: string | undefined,
    private readonly token: string | undefined,
  ) {
    this.url = (url || DEFAULT_SUPERVISOR_URL).replace(/\/+$/, '')
  }

  /** The broker behind `GET /services/mqtt`. */
  async mqttService(): Promise<MqttService> {
    const data = await this.get('/services/mqtt', 'the MQTT service')
    return this.parse(mqttServiceSchema, data, '/services/mqtt')
  }

  /** The add-on's own settings, from `GET /addons/self/info`. */
  async addonInfo(): Promise<AddonInfo> {
    const data = await this.get('/addons/self/info', "the add-on's own settings")
    return { ingressPort: this.parse(addonInfoSchema, data, '/addons/self/info').ingress_port }
  }

  private async get(path: string, what: string): Promise<unknown> {
    if (!this.token) {
      throw new CliError(
        'SUPERVISOR_TOKEN is not set. genlock addon-start runs inside the Home Assistant add-on, where the ' +
          'Supervisor sets it; elsewhere, use genlock run --config <file>.',
      )
    }
    let response: Response
    try {
      response = await fetch(`${this.url}${path}`, {
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      })
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause
      const reason = cause?.code ?? cause?.message ?? (error as Error).message
      throw new CliError(
        `cannot reach the Home Assistant Supervisor at ${this.url} to ask for ${what} (${reason}). ` +
          'The add-on asks it at every start; restart the add-on once the Supervisor is up.',
        EXIT.unreachable,
      )
    }
    const text = await response.text()
    if (response.status === 401 || response.status === 403) {
      throw new CliError(
        `the Home Assistant Supervisor at ${this.url} refused the add-on's token for ${path} ` +
          `(HTTP ${response.status}). The Supervisor gives the add-on a new token at each start: restart the add-on.`,
        EXIT.unreachable,
      )
    }
    const envelope = envelopeSchema.safeParse(safeJson(text))
    if (envelope.success && envelope.data.result === 'error') {
      const said = envelope.data.message ?? 'no reason given'
      const hint =
        path === '/services/mqtt'
          ? ' Install and start the Mosquitto broker add-on (Settings → Add-ons → Add-on store), then restart genlock.'
          : ''
      throw new CliError(
        `the Home Assistant Supervisor has no answer for ${what} (HTTP ${response.status}: ${said}).${hint}`,
        EXIT.unreachable,
      )
    }
    if (!response.ok || !envelope.success || envelope.data.result !== 'ok') {
      throw new CliError(
        `the Home Assistant Supervisor at ${this.url} answered ${path} with HTTP ${response.status} and ` +
          `${envelope.success ? 'an unexpected body' : 'no Supervisor JSON'}; restart the add-on, and report it if it stays.`,
        EXIT.unreachable,
      )
    }
    return envelope.data.data
  }

  /** Checks `data` against `schema`; a mismatch names the fields, never their values. */
  private parse<T>(schema: z.ZodType<T>, data: unknown, path: string): T {
    const parsed = schema.safeParse(data)
    if (parsed.success) return parsed.data
    const fields = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(all)'}: ${issue.code}`)
    throw new CliError(
      `the Home Assistant Supervisor's answer to ${path} is not what genlock expects (${fields.join(', ')}); ` +
        'please report this with your Supervisor version.',
      EXIT.unreachable,
    )
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

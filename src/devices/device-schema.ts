/**
 * The schema of a device file (`devices/<id>.yaml`): the single source of truth for its fields. Users write these
 * fields, so they are a public contract; see devices/README.md for examples of each adapter.
 */
import { isAbsolute } from 'node:path'
import { z } from 'zod'
import { parseDuration } from '../config/duration.js'

/** The adapters a device file may name. */
export const ADAPTERS = ['sim', 'hue', 'kasa', 'mqtt'] as const
export type AdapterName = (typeof ADAPTERS)[number]

/** Zod's "expected string, received undefined" becomes "is required" for fields a user forgot. */
const required = {
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : undefined),
}

const kelvin = z.number().int().min(1000).max(40000)

/** What the bulb can do. Absent: a colour bulb with white 2000–6500 K. Present: unset fields mean "cannot". */
export const capabilitiesSchema = z
  .strictObject({
    dimmable: z.boolean().default(true),
    color: z.boolean().default(false),
    colorTemp: z
      .strictObject({ min: kelvin, max: kelvin })
      .refine((range) => range.min < range.max, { message: 'min must be below max' })
      .optional(),
  })
  .default({ dimmable: true, color: true, colorTemp: { min: 2000, max: 6500 } })

const common = {
  /** Letters, digits, `_` and `-`: it becomes part of MQTT topics and log lines. */
  id: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, { message: "must be letters, digits, '_' or '-' (it is used in MQTT topics)" }),
  name: z.string().min(1).optional(),
  capabilities: capabilitiesSchema,
  /** Per-attempt timeout of the command queue. */
  timeoutMs: z.number().int().positive().max(60_000).default(2000),
  /** Extra attempts after a transient failure. */
  retries: z.number().int().min(0).max(10).default(2),
  /** First retry backoff; doubles per retry. */
  backoffMs: z.number().int().min(0).max(10_000).default(100),
  /**
   * A change made outside genlock (the app, a wall switch, a remote): `hold` (default) makes it a person's manual
   * change that holds the bulb (config `manual`); `ignore` leaves the lock alone (the state is still followed).
   */
  outside_changes: z.enum(['hold', 'ignore']).default('hold'),
}

const host = z.string(required).min(1, { message: 'is empty (give the IP address or host name)' })
const port = z.number().int().min(1).max(65535)

export const simDeviceSchema = z.strictObject({
  ...common,
  adapter: z.literal('sim'),
  latencyMs: z.number().min(0).max(60_000).default(0),
  failureRate: z.number().min(0).max(1).default(0),
})

const HUE_LIGHT = 'must be the light number (e.g. 3) or its CLIP v2 id (a uuid)'

export const hueDeviceSchema = z.strictObject({
  ...common,
  adapter: z.literal('hue'),
  host,
  /** Default 443 (HTTPS), or 80 with `insecure: true`. */
  port: port.optional(),
  /** The bridge's application key; a secret, so write `${HUE_USERNAME}`. */
  username: z.string(required).min(1, { message: 'is empty (set it, e.g. username: ${HUE_USERNAME})' }),
  /** The light: its v1 number (e.g. 3) or its CLIP v2 id (a uuid). */
  light: z.union(
    [
      z.number().int().min(1),
      z.string().regex(/^(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i, { message: HUE_LIGHT }),
    ],
    { error: (issue) => (issue.input === undefined ? 'is required' : HUE_LIGHT) },
  ),
  /** Plain HTTP and CLIP v1 instead of HTTPS (emulators, the round v1 bridge). */
  insecure: z.boolean().default(false),
  /** A PEM file of CAs to trust instead of the Hue bridge root CA (genlock sim hue writes one). */
  ca: z
    .string()
    .refine((path) => isAbsolute(path), {
      message: 'must be an absolute path to a PEM file (genlock sim hue prints one)',
    })
    .optional(),
  /** The lamp's colour gamut (Hue reports it as `colorgamuttype`). */
  gamut: z.enum(['A', 'B', 'C']).default('C'),
})

/**
 * How often a bulb that does not push its state is read: a duration (`5s`, `500ms`, `1m`), or `0`/`off` for never.
 * Becomes milliseconds.
 */
const pollInterval = z
  .union([z.literal('off'), z.literal(false), z.string(), z.number()])
  .transform((value, context) => {
    if (value === 'off' || value === false) return 0
    const ms = parseDuration(value)
    if (ms === undefined || (ms > 0 && ms < 100)) {
      context.addIssue({ code: 'custom', message: "must be a duration of at least 100ms, like '5s', or 'off'" })
      return z.NEVER
    }
    return ms
  })

export const kasaDeviceSchema = z.strictObject({
  ...common,
  adapter: z.literal('kasa'),
  host,
  /** The legacy protocol's port (TCP, or UDP with `transport: udp`). */
  port: port.default(9999),
  transport: z.enum(['tcp', 'udp']).default('tcp'),
  /**
   * `legacy` (port 9999), `klap` (HTTP, the local protocol of newer firmware), or `auto`: legacy, and KLAP when the
   * legacy port is closed.
   */
  protocol: z.enum(['auto', 'legacy', 'klap']).default('auto'),
  /** KLAP's HTTP port. */
  httpPort: port.default(80),
  /** The TP-Link account a KLAP bulb is bound to (the Kasa app's e-mail); a secret, so write `${KASA_USERNAME}`. */
  username: z.string().default(''),
  /** Its password; write `${KASA_PASSWORD}`. */
  password: z.string().default(''),
  /**
   * Kasa bulbs never push their state: reading it every 5 s (as Home Assistant's TP-Link integration does) sees a
   * change made in the Kasa app within seconds for one small request per bulb.
   */
  poll: pollInterval.default(5000),
})

export const mqttDeviceSchema = z.strictObject({
  ...common,
  adapter: z.literal('mqtt'),
  /** The light's own topic, e.g. `zigbee2mqtt/bath_bulb` (or the Tasmota device name with `preset: tasmota`). */
  topic: z
    .string(required)
    .min(1)
    .refine((topic) => !/[+#]/.test(topic) && !topic.endsWith('/'), {
      message: "must be a plain topic without wildcards or a trailing '/'",
    }),
  /** `zigbee2mqtt` JSON lights (default) or `tasmota` (`cmnd/<topic>/...`, `stat/<topic>/RESULT`). */
  preset: z.enum(['zigbee2mqtt', 'tasmota']).default('zigbee2mqtt'),
  /** How colours are sent to a Zigbee2MQTT light: CIE `xy` (default) or `rgb`. */
  colorFormat: z.enum(['xy', 'rgb']).default('xy'),
  /** Wait for the light to echo its new state before a command counts as done. */
  confirm: z.boolean().default(true),
})

/** A device file's fields, by adapter. */
export const deviceSchema = z.discriminatedUnion('adapter', [
  simDeviceSchema,
  hueDeviceSchema,
  kasaDeviceSchema,
  mqttDeviceSchema,
])

/** A validated device file, with every default filled in. */
export type DeviceConfig = z.output<typeof deviceSchema>
export type SimDeviceConfig = z.output<typeof simDeviceSchema>
export type HueDeviceConfig = z.output<typeof hueDeviceSchema>
export type KasaDeviceConfig = z.output<typeof kasaDeviceSchema>
export type MqttDeviceConfig = z.output<typeof mqttDeviceSchema>

/** The first check of a device file: the fields every adapter has, and a known adapter name. */
export const deviceHeaderSchema = z.looseObject({
  id: common.id,
  adapter: z.enum(ADAPTERS, { message: `must be one of ${ADAPTERS.join(', ')}` }),
})

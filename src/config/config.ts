import { existsSync, statSync } from 'node:fs'
import { isIP } from 'node:net'
import { dirname, resolve } from 'node:path'
import { z } from 'zod'
import { passwordHashProblem, type BrokerLogin } from './password-hash.js'
import { ConfigError, type ConfigProblem } from './problems.js'
import { YamlSource } from './yaml-source.js'

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const mqttSchema = z
  .strictObject({
    /** `mqtt://host:port` or `mqtts://host:port` of an existing broker (Home Assistant's, say). */
    url: z
      .string()
      .regex(/^mqtts?:\/\/[^/]+/, 'must be an mqtt:// or mqtts:// URL, e.g. mqtt://127.0.0.1:1883')
      .optional(),
    /** Run a broker inside the daemon instead (on 127.0.0.1 unless `host` says otherwise). */
    embedded: z.boolean().optional(),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(1883),
    username: z.string().optional(),
    password: z.string().optional(),
    ca: z.string().min(1).optional(),
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    client_id: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[^#+/]+$/, 'must not contain #, + or /')
      .optional(),
    base_topic: z
      .string()
      .min(1)
      .regex(/^[^#+]+$/, 'must not contain the wildcards + or #')
      .refine((topic) => !topic.startsWith('/') && !topic.endsWith('/'), 'must not start or end with /')
      .default('genlock'),
    max_payload_bytes: z
      .number()
      .int()
      .positive()
      .max(256 * 1024 * 1024)
      .default(64 * 1024),
    /** Embedded broker: who may connect besides genlock itself (mqtt.username/password). */
    users: z
      .array(
        z.strictObject({
          username: z.string().min(1).max(128),
          password_hash: z.string().superRefine((hash, context) => {
            const problem = passwordHashProblem(hash)
            if (problem) context.addIssue({ code: 'custom', message: problem })
          }),
        }),
      )
      .optional(),
    /** Embedded broker limits; defaults in src/mqtt/broker-limits.ts (DEFAULT_BROKER_LIMITS). */
    max_packet_bytes: z
      .number()
      .int()
      .min(1024)
      .max(256 * 1024 * 1024)
      .optional(),
    max_queued_messages: z.number().int().min(1).max(1_000_000).optional(),
    max_retained_bytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(1024 * 1024 * 1024)
      .optional(),
  })
  .refine((mqtt) => (mqtt.url === undefined) !== (mqtt.embedded !== true), {
    message: 'set either url (an existing broker) or embedded: true (a broker inside genlock), not both or neither',
  })
  .superRefine((mqtt, context) => {
    const problem = (field: string, message: string) => context.addIssue({ code: 'custom', path: [field], message })
    if (mqtt.url !== undefined) {
      for (const field of ['users', 'max_packet_bytes', 'max_queued_messages', 'max_retained_bytes'] as const) {
        if (mqtt[field] !== undefined)
          problem(field, 'is for the embedded broker (embedded: true); with url, set it on that broker')
      }
      if (mqtt.url.startsWith('mqtt://')) {
        for (const field of ['ca', 'cert', 'key'] as const) {
          if (mqtt[field] !== undefined)
            problem(field, 'is for TLS, but url is mqtt:// (no TLS): use an mqtts:// url, or remove it')
        }
      }
      return
    }
    for (const field of ['ca', 'cert', 'key'] as const) {
      if (mqtt[field] !== undefined)
        problem(field, 'is for connecting to an mqtts:// broker; the embedded broker does not speak TLS')
    }
    const names = (mqtt.users ?? []).map((user) => user.username)
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i)
        context.addIssue({ code: 'custom', path: ['users', i, 'username'], message: `'${name}' is listed twice` })
    })
    // An empty password (a variable set to '') is no login.
    const ownLogin = Boolean(mqtt.username) && Boolean(mqtt.password)
    if (!isLoopbackHost(mqtt.host) && !ownLogin) {
      problem(
        'host',
        `${mqtt.host} lets other machines reach the embedded broker, so it needs logins: set mqtt.username and ` +
          "mqtt.password (genlock's own, e.g. password: ${GENLOCK_MQTT_PASSWORD}) and list other clients under " +
          'mqtt.users with a password_hash from `genlock hash-password`; or keep host: 127.0.0.1',
      )
    } else if (names.length > 0 && !ownLogin) {
      problem('users', 'needs mqtt.username and mqtt.password too: genlock itself logs in to its broker')
    }
  })

/**
 * Whether `host` is this machine only (127.0.0.0/8, ::1, localhost): then the embedded broker may run without
 * logins, as Mosquitto 2 does by default. Anything else (0.0.0.0, ::, a LAN address or name) reaches further.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare)
}

const locksSchema = z.discriminatedUnion('backend', [
  z.strictObject({ backend: z.literal('memory') }),
  z.strictObject({
    backend: z.literal('redis'),
    url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
    key_prefix: z
      .string()
      .regex(/^[^{}]+$/, 'must be non-empty, without { or }')
      .default('genlock'),
  }),
])

const homeassistantSchema = z.strictObject({
  /** Publish Home Assistant MQTT discovery configs. Default: on with an external broker (`mqtt.url`), off when embedded. */
  discovery: z.boolean().optional(),
  /** Home Assistant's discovery prefix (its MQTT integration setting); HA's birth message is `<prefix>/status`. */
  prefix: z
    .string()
    .min(1)
    .regex(/^[^#+]+$/, 'must not contain the wildcards + or #')
    .refine((topic) => !topic.startsWith('/') && !topic.endsWith('/'), 'must not start or end with /')
    .default('homeassistant'),
  /** Lock priority of a light command from Home Assistant: above party (0), below the alarm (200) by default. */
  manual_priority: z.number().finite().default(100),
})

/**
 * A token shorter than this is guessable by a machine on the LAN trying tokens against the dashboard; 16 characters
 * of `openssl rand -hex 16` (32) are far beyond that.
 */
export const MIN_HTTP_TOKEN_LENGTH = 16

/** The daemon's HTTP listener: the dashboard (and `/metrics` when `metrics: true`). Off when the section is absent. */
const httpSchema = z
  .strictObject({
    port: z.number().int().min(0).max(65_535).default(8099),
    /** 127.0.0.1 by default: the dashboard can start automations, so only this machine reaches it unless told. */
    host: z.string().min(1).default('127.0.0.1'),
    /** Required beyond loopback (unless behind an ingress proxy); every request must then carry it. */
    token: z
      .string()
      .min(MIN_HTTP_TOKEN_LENGTH, `must be at least ${MIN_HTTP_TOKEN_LENGTH} characters (e.g. openssl rand -hex 16)`)
      .optional(),
    /**
     * The one address allowed to connect: Home Assistant's ingress proxy (172.30.32.2), which has already logged
     * the user in. Requests from anywhere else are refused.
     */
    ingress_proxy: z
      .string()
      .refine((address) => isIP(address) !== 0, 'must be an IP address, e.g. 172.30.32.2 (Home Assistant ingress)')
      .optional(),
    /** Serve `/metrics` (Prometheus text) on this listener. */
    metrics: z.boolean().default(false),
  })
  .superRefine((http, context) => {
    if (isLoopbackHost(http.host) || http.token !== undefined || http.ingress_proxy !== undefined) return
    context.addIssue({
      code: 'custom',
      path: ['host'],
      message:
        `${http.host} lets other machines reach the dashboard, which can start and stop automations, so it needs ` +
        'a token: set http.token (e.g. token: ${GENLOCK_HTTP_TOKEN}, from `openssl rand -hex 16`); or keep ' +
        'host: 127.0.0.1',
    })
  })

/** True when the runtime knows `name` as an IANA time zone (`Europe/Berlin`, `UTC`). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name })
    return true
  } catch {
    return false
  }
}

const timezoneSchema = z
  .string()
  .refine(isTimeZone, { message: 'unknown time zone: use an IANA name such as Europe/Berlin or America/New_York' })

/** Where sun triggers are computed: decimal degrees, north and east positive. */
const locationSchema = z.strictObject({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
})

/** The schema of `config.yaml`: the single source of truth for its keys and defaults. */
export const configSchema = z.strictObject({
  mqtt: mqttSchema.default({
    embedded: true,
    host: '127.0.0.1',
    port: 1883,
    base_topic: 'genlock',
    max_payload_bytes: 64 * 1024,
  }),
  /** Folder with one YAML file per device. */
  devices: z.string().min(1).default('./devices'),
  /** Folder with one YAML file per automation. */
  automations: z.string().min(1).default('./automations'),
  /** Folder where genlock keeps its own state between runs; created at start. */
  data_dir: z.string().min(1).default('./data'),
  locks: locksSchema.default({ backend: 'memory' }),
  homeassistant: homeassistantSchema.default({ prefix: 'homeassistant', manual_priority: 100 }),
  /** The zone of `at`, `cron`, time windows and `now` in automations. Default: the system's. */
  timezone: timezoneSchema.optional(),
  location: locationSchema.optional(),
  http: httpSchema.optional(),
  log: z
    .strictObject({
      level: z.enum(logLevels).default('info'),
      /** `auto` (default): human-readable lines on a terminal, JSON otherwise. */
      pretty: z.union([z.boolean(), z.literal('auto')]).default('auto'),
    })
    .default({ level: 'info', pretty: 'auto' }),
})

export type RawConfig = z.output<typeof configSchema>

/** The broker the daemon connects to: an existing one, or one it starts itself. */
export type MqttSettings = {
  readonly clientId: string
  readonly baseTopic: string
  readonly maxPayloadBytes: number
  readonly username?: string | undefined
  readonly password?: string | undefined
  /** Absolute paths of PEM files, for mqtts://. */
  readonly ca?: string | undefined
  readonly cert?: string | undefined
  readonly key?: string | undefined
} & (
  | { readonly embedded: false; readonly url: string }
  | { readonly embedded: true; readonly host: string; readonly port: number; readonly broker: EmbeddedBrokerSettings }
)

/** The embedded broker's logins and limits (limits left undefined take the broker's defaults). */
export interface EmbeddedBrokerSettings {
  /** Empty: anyone on `host` may connect (only allowed on loopback). Else only these logins, genlock's own first. */
  readonly logins: readonly BrokerLogin[]
  readonly maxPacketBytes?: number | undefined
  readonly maxQueuedMessages?: number | undefined
  readonly maxRetainedBytes?: number | undefined
}

export type LockSettings =
  { readonly backend: 'memory' } | { readonly backend: 'redis'; readonly url: string; readonly keyPrefix: string }

/** Home Assistant integration: MQTT discovery, and the priority of HA's own light commands. */
export interface HomeAssistantSettings {
  readonly discovery: boolean
  readonly prefix: string
  readonly manualPriority: number
}

/** The HTTP listener (`http:` in config.yaml): the dashboard, and `/metrics` when `metrics` is on. */
export interface HttpSettings {
  readonly port: number
  readonly host: string
  /** When set, every request must carry it (header, or the cookie the page gets from `?token=`). */
  readonly token: string | undefined
  /** When set, only this address may connect (Home Assistant's ingress proxy). */
  readonly ingressProxy: string | undefined
  readonly metrics: boolean
}

/** A loaded, validated config with every path made absolute. */
export interface GenlockConfig {
  /** Absolute path of the config file itself. */
  readonly file: string
  readonly mqtt: MqttSettings
  readonly devicesDir: string
  readonly automationsDir: string
  /** Where genlock keeps state between runs (`data_dir`, default `data` beside the config file). Created at start. */
  readonly dataDir: string
  readonly locks: LockSettings
  readonly homeassistant: HomeAssistantSettings
  /** IANA time zone of automations' local times (config or the system's). */
  readonly timezone: string
  /** For sun triggers; undefined when config.yaml has none. */
  readonly location: { readonly latitude: number; readonly longitude: number } | undefined
  /** The HTTP listener; undefined (no listener) when config.yaml has no `http` section. */
  readonly http?: HttpSettings | undefined
  readonly log: { readonly level: (typeof logLevels)[number]; readonly pretty: boolean | 'auto' }
}

function embeddedBroker(mqtt: RawConfig['mqtt']): EmbeddedBrokerSettings {
  const users = (mqtt.users ?? []).map((user) => ({ username: user.username, passwordHash: user.password_hash }))
  const own = mqtt.username && mqtt.password ? [{ username: mqtt.username, password: mqtt.password }] : []
  return {
    logins: [...own, ...users],
    maxPacketBytes: mqtt.max_packet_bytes,
    maxQueuedMessages: mqtt.max_queued_messages,
    maxRetainedBytes: mqtt.max_retained_bytes,
  }
}

/**
 * Reads and checks `config.yaml`. Relative paths in it are relative to the file's folder. Throws a ConfigError
 * listing every problem (file:line:col field: message), including folders and certificate files that don't exist.
 *
 * @example
 * const config = loadConfig('config.example.yaml')
 * config.automationsDir // '/abs/path/automations'
 */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): GenlockConfig {
  const path = resolve(file)
  const source = YamlSource.parse(path, undefined, env)
  const raw = source.validate(configSchema, source.data ?? {})
  const base = dirname(path)
  const problems: ConfigProblem[] = []
  const folder = (field: 'devices' | 'automations'): string => {
    const dir = resolve(base, raw[field])
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      problems.push(source.problem([field], `folder ${dir} does not exist`))
    }
    return dir
  }
  const pem = (field: 'ca' | 'cert' | 'key'): string | undefined => {
    const value = raw.mqtt[field]
    if (value === undefined) return undefined
    const pemPath = resolve(base, value)
    if (!existsSync(pemPath)) problems.push(source.problem(['mqtt', field], `file ${pemPath} does not exist`))
    return pemPath
  }
  const devicesDir = folder('devices')
  const automationsDir = folder('automations')
  const dataDir = resolve(base, raw.data_dir)
  // Missing is fine (the daemon creates it); a file in its place would only fail later, less clearly.
  if (existsSync(dataDir) && !statSync(dataDir).isDirectory()) {
    problems.push(source.problem(['data_dir'], `${dataDir} is a file, not a folder`))
  }
  const ca = pem('ca')
  const cert = pem('cert')
  const key = pem('key')
  if ((cert === undefined) !== (key === undefined)) {
    problems.push(source.problem(['mqtt', cert ? 'cert' : 'key'], 'cert and key go together: set both or neither'))
  }
  if (problems.length > 0) throw new ConfigError(problems)

  const baseTopic = raw.mqtt.base_topic
  const common = {
    clientId: raw.mqtt.client_id ?? `genlock_${baseTopic.replace(/[^A-Za-z0-9_-]/g, '_')}`,
    baseTopic,
    maxPayloadBytes: raw.mqtt.max_payload_bytes,
    username: raw.mqtt.username,
    password: raw.mqtt.password,
    ca,
    cert,
    key,
  }
  const mqtt: MqttSettings =
    raw.mqtt.url !== undefined
      ? { ...common, embedded: false, url: raw.mqtt.url }
      : { ...common, embedded: true, host: raw.mqtt.host, port: raw.mqtt.port, broker: embeddedBroker(raw.mqtt) }
  const locks: LockSettings =
    raw.locks.backend === 'redis'
      ? { backend: 'redis', url: raw.locks.url, keyPrefix: raw.locks.key_prefix }
      : { backend: 'memory' }
  const homeassistant: HomeAssistantSettings = {
    discovery: raw.homeassistant.discovery ?? !mqtt.embedded,
    prefix: raw.homeassistant.prefix,
    manualPriority: raw.homeassistant.manual_priority,
  }
  const timezone = raw.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone
  return {
    file: path,
    mqtt,
    devicesDir,
    automationsDir,
    dataDir,
    locks,
    homeassistant,
    timezone,
    location: raw.location,
    http: raw.http && {
      port: raw.http.port,
      host: raw.http.host,
      token: raw.http.token,
      ingressProxy: raw.http.ingress_proxy,
      metrics: raw.http.metrics,
    },
    log: raw.log,
  }
}

import { existsSync, statSync } from 'node:fs'
import { isIP } from 'node:net'
import { dirname, resolve } from 'node:path'
import { z } from 'zod'
import { DURATION_FORMS, DURATION_JSON_FORMS, parseDuration } from './duration.js'
import { passwordHashProblem, type BrokerLogin } from './password-hash.js'
import { ConfigError, type ConfigProblem } from './problems.js'
import { YamlSource } from './yaml-source.js'

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const LOOPBACK_HOST = '::1|[Ll][Oo][Cc][Aa][Ll][Hh][Oo][Ss][Tt]|127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}'
/** isLoopbackHost as a JSON Schema pattern, for the editor schema (test/schemas checks that they agree). */
export const LOOPBACK_PATTERN = `^(${LOOPBACK_HOST}|\\[(${LOOPBACK_HOST})\\])$`

/** The first levels of a family of topics (`genlock`, `homeassistant`): no wildcards, no leading or trailing /. */
function topicPrefix(fallback: string) {
  return z
    .string()
    .min(1)
    .regex(/^[^#+]+$/, 'must not contain the wildcards + or #')
    .refine((topic) => !topic.startsWith('/') && !topic.endsWith('/'), 'must not start or end with /')
    .default(fallback)
}

/** genlock's own login to its embedded broker, which it needs beyond loopback and beside other users. */
const OWN_LOGIN = {
  required: ['username', 'password'],
  properties: { username: { type: 'string', minLength: 1 }, password: { type: 'string', minLength: 1 } },
}

const mqttSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^mqtts?:\/\/[^/]+/, 'must be an mqtt:// or mqtts:// URL, e.g. mqtt://127.0.0.1:1883')
      .optional()
      .meta({
        description:
          "An existing broker (Home Assistant's, say) to connect to: mqtt://host:port, or mqtts://host:port for TLS. " +
          'Set either url or embedded: true.',
        examples: ['mqtt://homeassistant.local:1883', 'mqtts://homeassistant.local:8883'],
      }),
    embedded: z
      .boolean()
      .optional()
      .meta({
        description:
          'Run an MQTT broker inside genlock instead of connecting to one (on 127.0.0.1 unless host says otherwise). ' +
          'Set either url or embedded: true.',
        examples: [true],
      }),
    host: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .meta({
        description:
          'Embedded broker: the address it listens on. 127.0.0.1 (the default) is this machine only; any other ' +
          '(0.0.0.0, a LAN address) lets other machines in and then needs username, password (and users).',
        examples: ['127.0.0.1', '0.0.0.0'],
      }),
    port: z
      .number()
      .int()
      .min(0)
      .max(65_535)
      .default(1883)
      .meta({ description: 'Embedded broker: the TCP port it listens on (0: any free port).', examples: [1883, 1884] }),
    username: z
      .string()
      .optional()
      .meta({
        description:
          "genlock's own MQTT login: for the broker at url, or the first login of the embedded broker. Keep it " +
          'in the environment: ${GENLOCK_MQTT_USERNAME}.',
        examples: ['genlock', '${GENLOCK_MQTT_USERNAME}'],
      }),
    password: z
      .string()
      .optional()
      .meta({
        description: 'The password of username; a secret, so write ${GENLOCK_MQTT_PASSWORD} (never logged).',
        examples: ['${GENLOCK_MQTT_PASSWORD}'],
      }),
    ca: z
      .string()
      .min(1)
      .optional()
      .meta({
        description: 'mqtts:// only: a PEM file of CAs to trust for the broker, relative to config.yaml.',
        examples: ['./certs/ca.pem'],
      }),
    cert: z
      .string()
      .min(1)
      .optional()
      .meta({
        description: 'mqtts:// only: a PEM client certificate, relative to config.yaml; goes with key.',
        examples: ['./certs/client.pem'],
      }),
    key: z
      .string()
      .min(1)
      .optional()
      .meta({
        description:
          "mqtts:// only: the client certificate's PEM private key, relative to config.yaml; goes with cert.",
        examples: ['./certs/client.key'],
      }),
    client_id: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[^#+/]+$/, 'must not contain #, + or /')
      .optional()
      .meta({
        description:
          'The MQTT client id; keep it stable, the broker keeps our persistent session under it. ' +
          'Default: genlock_<base_topic>.',
        examples: ['genlock'],
      }),
    base_topic: topicPrefix('genlock').meta({
      not: { type: 'string', pattern: '^/|/$' },
      description:
        'The first level of every topic genlock publishes: <base>/status, <base>/device/<id>, ' +
        '<base>/automation/<name>[/set]. No wildcards, no leading or trailing /.',
      examples: ['genlock', 'home/genlock'],
    }),
    max_payload_bytes: z
      .number()
      .int()
      .positive()
      .max(256 * 1024 * 1024)
      .default(64 * 1024)
      .meta({
        description: 'Incoming messages larger than this are logged and dropped.',
        examples: [65536],
      }),
    users: z
      .array(
        z
          .strictObject({
            username: z
              .string()
              .min(1)
              .max(128)
              .meta({ description: 'The login name of a client.', examples: ['homeassistant'] }),
            password_hash: z
              .string()
              .superRefine((hash, context) => {
                const problem = passwordHashProblem(hash)
                if (problem) context.addIssue({ code: 'custom', message: problem })
              })
              .meta({
                description: 'Its password as `genlock hash-password` prints it (scrypt), never the password itself.',
                examples: ['$scrypt$ln=14,r=8,p=1$...'],
              }),
          })
          .meta({
            description: 'One login of the embedded broker.',
            examples: [{ username: 'homeassistant', password_hash: '$scrypt$ln=14,r=8,p=1$...' }],
          }),
      )
      .optional()
      .meta({
        description:
          'Embedded broker: who may connect besides genlock itself (mqtt.username/password), each with a ' +
          'password_hash from `genlock hash-password`.',
        examples: [[{ username: 'homeassistant', password_hash: '$scrypt$ln=14,r=8,p=1$...' }]],
      }),
    // Embedded broker limits; defaults in src/mqtt/broker-limits.ts (DEFAULT_BROKER_LIMITS).
    max_packet_bytes: z
      .number()
      .int()
      .min(1024)
      .max(256 * 1024 * 1024)
      .optional()
      .meta({
        description:
          "Embedded broker: a bigger packet ends the sender's connection as its header arrives. Default 1048576.",
        examples: [1048576],
      }),
    max_queued_messages: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .meta({
        description:
          'Embedded broker: QoS 1/2 messages kept per persistent-session client that is not acknowledging. ' +
          'Default 1000.',
        examples: [1000],
      }),
    max_retained_bytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(1024 * 1024 * 1024)
      .optional()
      .meta({
        description:
          'Embedded broker: all retained messages together; a retained publish beyond is refused. Default 16777216.',
        examples: [16777216],
      }),
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
  .meta({
    description:
      'The MQTT broker: an existing one (url) or one inside genlock (embedded: true). Default: embedded on ' +
      '127.0.0.1:1883.',
    examples: [{ url: 'mqtt://homeassistant.local:1883', username: '${GENLOCK_MQTT_USERNAME}' }, { embedded: true }],
    // The refinements above (and loadConfig's cert/key pairing), as far as JSON Schema can say them.
    dependencies: { cert: ['key'], key: ['cert'] },
    anyOf: [
      {
        description: "An existing broker: url, and none of the embedded broker's keys.",
        required: ['url'],
        properties: {
          embedded: { const: false },
          users: false,
          max_packet_bytes: false,
          max_queued_messages: false,
          max_retained_bytes: false,
        },
        if: { properties: { url: { type: 'string', pattern: '^mqtt://' } } },
        then: { properties: { ca: false, cert: false, key: false } },
      },
      {
        description: 'The embedded broker: embedded: true, no url and no TLS files; beyond loopback, with logins.',
        required: ['embedded'],
        properties: { embedded: { const: true }, url: false, ca: false, cert: false, key: false },
        allOf: [
          {
            if: {
              required: ['host'],
              properties: { host: { type: 'string', not: { type: 'string', pattern: LOOPBACK_PATTERN } } },
            },
            then: OWN_LOGIN,
          },
          { if: { required: ['users'], properties: { users: { type: 'array', minItems: 1 } } }, then: OWN_LOGIN },
        ],
      },
    ],
  })

/**
 * Whether `host` is this machine only (127.0.0.0/8, ::1, localhost): then the embedded broker may run without
 * logins, as Mosquitto 2 does by default. Anything else (0.0.0.0, ::, a LAN address or name) reaches further.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare)
}

const locksSchema = z
  .discriminatedUnion('backend', [
    z
      .strictObject({
        backend: z.literal('memory').meta({
          description: 'Locks in this process: for one genlock alone.',
          examples: ['memory'],
        }),
      })
      .meta({ description: 'Locks held in this process (one daemon).', examples: [{ backend: 'memory' }] }),
    z
      .strictObject({
        backend: z.literal('redis').meta({
          description: 'Locks in Redis, shared by every daemon that uses the same url and key_prefix.',
          examples: ['redis'],
        }),
        url: z
          .string()
          .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
          .meta({
            description: 'The Redis server: redis://host:port, or rediss:// for TLS.',
            examples: ['redis://127.0.0.1:6379', 'rediss://redis.local:6380'],
          }),
        key_prefix: z
          .string()
          .regex(/^[^{}]+$/, 'must be non-empty, without { or }')
          .default('genlock')
          .meta({
            description: 'The first part of every lock key; daemons that share bulbs use the same one.',
            examples: ['genlock', 'house'],
          }),
      })
      .meta({
        description: 'Locks in Redis (several daemons sharing bulbs).',
        examples: [{ backend: 'redis', url: 'redis://127.0.0.1:6379', key_prefix: 'genlock' }],
      }),
  ])
  .meta({
    description: "Where the bulbs' priority locks live: in memory, or in Redis to share bulbs between daemons.",
    examples: [{ backend: 'memory' }, { backend: 'redis', url: 'redis://127.0.0.1:6379' }],
  })

const homeassistantSchema = z
  .strictObject({
    discovery: z
      .boolean()
      .optional()
      .meta({
        description:
          'Publish Home Assistant MQTT discovery configs, so bulbs and automations appear there. Default: on with ' +
          'an existing broker (mqtt.url), off with the embedded one.',
        examples: [true, false],
      }),
    prefix: topicPrefix('homeassistant').meta({
      not: { type: 'string', pattern: '^/|/$' },
      description:
        "Home Assistant's discovery prefix (its MQTT integration setting); HA's birth message is <prefix>/status.",
      examples: ['homeassistant'],
    }),
    manual_priority: z
      .number()
      .finite()
      .default(100)
      .meta({
        description:
          'Lock priority of a light command from Home Assistant: by default above party (0), below the alarm (200).',
        examples: [100],
      }),
  })
  .meta({
    description: 'Home Assistant integration: MQTT discovery, and the priority of light commands from HA.',
    examples: [{ discovery: true, prefix: 'homeassistant', manual_priority: 100 }],
  })

/**
 * A token shorter than this is guessable by a machine on the LAN trying tokens against the dashboard; 16 characters
 * of `openssl rand -hex 16` (32) are far beyond that.
 */
export const MIN_HTTP_TOKEN_LENGTH = 16

/** The daemon's HTTP listener: the dashboard (and `/metrics` when `metrics: true`). Off when the section is absent. */
const httpSchema = z
  .strictObject({
    port: z
      .number()
      .int()
      .min(0)
      .max(65_535)
      .default(8099)
      .meta({ description: 'The TCP port of the dashboard (and /metrics).', examples: [8099] }),
    host: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .meta({
        description:
          'The address it listens on: 127.0.0.1 (the default) is this machine only; any other (0.0.0.0, a LAN ' +
          'address) needs a token, as the dashboard can start and stop automations.',
        examples: ['127.0.0.1', '0.0.0.0'],
      }),
    token: z
      .string()
      .min(MIN_HTTP_TOKEN_LENGTH, `must be at least ${MIN_HTTP_TOKEN_LENGTH} characters (e.g. openssl rand -hex 16)`)
      .optional()
      .meta({
        description:
          `Every request must carry it; required beyond loopback (unless behind an ingress proxy). At least ` +
          `${MIN_HTTP_TOKEN_LENGTH} characters, from the environment: \${GENLOCK_HTTP_TOKEN} (openssl rand -hex 16).`,
        examples: ['${GENLOCK_HTTP_TOKEN}'],
      }),
    ingress_proxy: z
      .string()
      .refine((address) => isIP(address) !== 0, 'must be an IP address, e.g. 172.30.32.2 (Home Assistant ingress)')
      .optional()
      .meta({
        description:
          "The one address allowed to connect: Home Assistant's ingress proxy, which has already logged the user " +
          'in. Requests from anywhere else are refused.',
        examples: ['172.30.32.2'],
      }),
    metrics: z
      .boolean()
      .default(false)
      .meta({ description: 'Serve /metrics (Prometheus text) on this listener.', examples: [true] }),
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
  .meta({
    description:
      "The daemon's HTTP listener: the dashboard, and /metrics with metrics: true. Off when the section is absent.",
    examples: [{ port: 8099 }, { host: '0.0.0.0', token: '${GENLOCK_HTTP_TOKEN}', metrics: true }],
    // The refinement above: beyond loopback, a token or an ingress proxy.
    if: {
      required: ['host'],
      properties: { host: { type: 'string', not: { type: 'string', pattern: LOOPBACK_PATTERN } } },
    },
    then: { anyOf: [{ required: ['token'] }, { required: ['ingress_proxy'] }] },
  })

const holdDuration = z
  .union([z.string(), z.number(), z.record(z.string(), z.number())])
  .transform((value, ctx) => {
    const ms = parseDuration(value)
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be a duration (${DURATION_FORMS}), or 0 for momentary` })
      return z.NEVER
    }
    return ms
  })
  .meta({ anyOf: [...DURATION_JSON_FORMS] })

/** A person's change holds the bulb (manual control): its priority, how long it holds, and what ends it early. */
const manualSchema = z
  .strictObject({
    priority: z
      .number()
      .finite()
      .optional()
      .meta({
        description:
          "Lock priority of a person's change (Home Assistant, or the bulb's app, a wall switch, a remote). " +
          'Default: homeassistant.manual_priority (100): above party (0), below the alarm (200).',
        examples: [100, 250],
      }),
    hold: holdDuration.default(30 * 60_000).meta({
      description:
        "How long a person's change holds the bulb; each new change starts it again. 0: momentary (the next " +
        'automation step takes the bulb back). Default 30m.',
      examples: ['30m', '2h', 0],
    }),
    release_on_off: z
      .boolean()
      .default(true)
      .meta({
        description: 'A person switching the bulb off ends the hold, and the automations it suspended go on.',
        examples: [true, false],
      }),
  })
  .meta({
    description:
      "How a person's change holds a bulb: lower automations wait, a higher one (the alarm) still preempts it and " +
      "the person's state comes back after it; release early with <base>/device/<id>/release.",
    examples: [{ priority: 100, hold: '30m', release_on_off: true }],
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
  .meta({
    description: "The IANA time zone of at, cron, time windows and `now` in automations. Default: the machine's own.",
    examples: ['Europe/Berlin', 'America/New_York', 'UTC'],
  })

const locationSchema = z
  .strictObject({
    latitude: z
      .number()
      .min(-90)
      .max(90)
      .meta({ description: 'Decimal degrees, north positive.', examples: [52.52] }),
    longitude: z
      .number()
      .min(-180)
      .max(180)
      .meta({ description: 'Decimal degrees, east positive.', examples: [13.405] }),
  })
  .meta({
    description: 'Where you are, for sun triggers (sunrise, sunset, dawn, dusk, solar_noon).',
    examples: [{ latitude: 52.52, longitude: 13.405 }],
  })

/** The schema of `config.yaml`: the single source of truth for its keys and defaults. */
export const configSchema = z
  .strictObject({
    mqtt: mqttSchema.default({
      embedded: true,
      host: '127.0.0.1',
      port: 1883,
      base_topic: 'genlock',
      max_payload_bytes: 64 * 1024,
    }),
    devices: z
      .string()
      .min(1)
      .default('./devices')
      .meta({
        description: 'The folder with one YAML file per bulb, relative to config.yaml.',
        examples: ['./devices'],
      }),
    automations: z
      .string()
      .min(1)
      .default('./automations')
      .meta({
        description: 'The folder with one YAML file per automation, relative to config.yaml.',
        examples: ['./automations'],
      }),
    data_dir: z
      .string()
      .min(1)
      .default('./data')
      .meta({
        description:
          'Where genlock keeps its own state between runs, relative to config.yaml; created at start. Keep it on a ' +
          'persistent volume.',
        examples: ['./data', '/var/lib/genlock'],
      }),
    locks: locksSchema.default({ backend: 'memory' }),
    homeassistant: homeassistantSchema.default({ prefix: 'homeassistant', manual_priority: 100 }),
    manual: manualSchema.default({ hold: 30 * 60_000, release_on_off: true }),
    timezone: timezoneSchema.optional(),
    location: locationSchema.optional(),
    http: httpSchema.optional(),
    log: z
      .strictObject({
        level: z
          .enum(logLevels)
          .default('info')
          .meta({ description: 'The least important log lines still written.', examples: ['info', 'debug'] }),
        pretty: z
          .union([z.boolean(), z.literal('auto')])
          .default('auto')
          .meta({
            description: 'Human-readable lines (true), JSON lines (false), or auto: human-readable on a terminal.',
            examples: ['auto', false],
          }),
      })
      .default({ level: 'info', pretty: 'auto' })
      .meta({ description: 'What genlock logs, and how.', examples: [{ level: 'info', pretty: 'auto' }] }),
  })
  .meta({
    title: 'genlock config.yaml',
    description:
      "genlock's main config: the MQTT broker, the devices and automations folders, locks, Home Assistant, " +
      'time zone and location, logging. Every key is optional.',
    examples: [{ mqtt: { embedded: true, port: 1884 }, devices: './devices', automations: './automations' }],
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

/** Manual control: a Home Assistant light command or a change made outside genlock holds the bulb. */
export interface ManualSettings {
  /** Lock priority of a person's change (`manual.priority`, else `homeassistant.manual_priority`). */
  readonly priority: number
  /** How long a person's change holds the bulb, ms; 0 = momentary (one transaction per change). */
  readonly holdMs: number
  /** Switching the bulb off (a person) ends the hold. */
  readonly releaseOnOff: boolean
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
  readonly manual: ManualSettings
  /**
   * IANA time zone of automations' local times, as config.yaml names it; undefined: the machine's own, left for Intl
   * to read when a time is first shown (`systemTimeZone()` gives its name).
   */
  readonly timezone: string | undefined
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
  const manual: ManualSettings = {
    priority: raw.manual.priority ?? raw.homeassistant.manual_priority,
    holdMs: raw.manual.hold,
    releaseOnOff: raw.manual.release_on_off,
  }
  return {
    file: path,
    mqtt,
    devicesDir,
    automationsDir,
    dataDir,
    locks,
    homeassistant,
    manual,
    timezone: raw.timezone,
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

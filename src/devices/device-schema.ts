/**
 * The schema of a device file (`devices/<id>.yaml`): the single source of truth for its fields. Users write these
 * fields, so they are a public contract; see devices/README.md for examples of each adapter.
 */
import { isAbsolute } from 'node:path'
import { z } from 'zod'
import { DURATION_JSON_FORMS, parseDuration } from '../config/duration.js'

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
    dimmable: z
      .boolean()
      .default(true)
      .meta({ description: 'Whether the bulb can dim (default true).', examples: [true, false] }),
    color: z
      .boolean()
      .default(false)
      .meta({
        description: 'Whether the bulb shows colours (default false once capabilities is written).',
        examples: [true, false],
      }),
    colorTemp: z
      .strictObject({
        min: kelvin.meta({ description: 'The warmest white, in kelvin.', examples: [2000, 2700] }),
        max: kelvin.meta({ description: 'The coolest white, in kelvin; above min.', examples: [6500] }),
      })
      .refine((range) => range.min < range.max, { message: 'min must be below max' })
      .optional()
      .meta({
        description: 'The range of tunable white, in kelvin; leave it out for a bulb without tunable white.',
        examples: [{ min: 2700, max: 6500 }],
      }),
  })
  .default({ dimmable: true, color: true, colorTemp: { min: 2000, max: 6500 } })
  .meta({
    description:
      'What the bulb can do. Absent: a colour bulb with white 2000–6500 K. Written: a field left out means cannot.',
    examples: [{ dimmable: true, color: false, colorTemp: { min: 2700, max: 6500 } }],
  })

const common = {
  id: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, { message: "must be letters, digits, '_' or '-' (it is used in MQTT topics)" })
    .meta({
      description:
        "The bulb's id, unique across device files: letters, digits, _ and - (it is part of MQTT topics and log lines).",
      examples: ['bath_bulb', 'hall-bulb'],
    }),
  name: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'A name to show (Home Assistant, logs); default: the id.', examples: ['Bath bulb'] }),
  capabilities: capabilitiesSchema,
  timeoutMs: z
    .number()
    .int()
    .positive()
    .max(60_000)
    .default(2000)
    .meta({ description: 'How long one attempt of a command may take, in ms.', examples: [2000] }),
  retries: z
    .number()
    .int()
    .min(0)
    .max(10)
    .default(2)
    .meta({ description: 'Extra attempts after a transient failure (timeouts included).', examples: [2, 0] }),
  backoffMs: z
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(100)
    .meta({ description: 'The delay before the first retry, in ms; it doubles per retry.', examples: [100] }),
  outside_changes: z
    .enum(['hold', 'ignore'])
    .default('hold')
    .meta({
      description:
        "A change made outside genlock (the bulb's app, a wall switch, a remote): hold (default) makes it a person's manual change that holds the bulb (config manual); ignore only follows the new state.",
      examples: ['hold', 'ignore'],
    }),
}

const host = z
  .string(required)
  .min(1, { message: 'is empty (give the IP address or host name)' })
  .meta({ description: "The bulb's or bridge's IP address or host name.", examples: ['192.168.1.40', 'hue.local'] })
const port = z.number().int().min(1).max(65535)

export const simDeviceSchema = z
  .strictObject({
    ...common,
    adapter: z
      .literal('sim')
      .meta({ description: 'A simulated bulb, in memory: no hardware needed.', examples: ['sim'] }),
    latencyMs: z
      .number()
      .min(0)
      .max(60_000)
      .default(0)
      .meta({ description: 'How long the simulated bulb takes to answer a command, in ms.', examples: [0, 20] }),
    failureRate: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .meta({
        description: 'The share (0–1) of commands that fail transiently, and are retried.',
        examples: [0, 0.05],
      }),
  })
  .meta({
    description: 'A simulated bulb (adapter: sim).',
    examples: [{ id: 'bath_bulb', adapter: 'sim', latencyMs: 20 }],
  })

const HUE_LIGHT = 'must be the light number (e.g. 3) or its CLIP v2 id (a uuid)'

export const hueDeviceSchema = z
  .strictObject({
    ...common,
    adapter: z.literal('hue').meta({ description: 'A Philips Hue light, through its bridge.', examples: ['hue'] }),
    host,
    port: port
      .optional()
      .meta({ description: "The bridge's port: default 443 (HTTPS), or 80 with insecure: true.", examples: [443, 80] }),
    username: z
      .string(required)
      .min(1, { message: 'is empty (set it, e.g. username: ${HUE_USERNAME})' })
      .meta({
        description: "The bridge's application key (genlock hue pair prints it); a secret, so write ${HUE_USERNAME}.",
        examples: ['${HUE_USERNAME}'],
      }),
    light: z
      .union(
        [
          z.number().int().min(1),
          z
            .string()
            .regex(/^(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i, { message: HUE_LIGHT })
            // JSON Schema patterns have no flags (zod drops the `i`): the same rule, spelt case-insensitively.
            .meta({ pattern: '^(\\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$' }),
        ],
        { error: (issue) => (issue.input === undefined ? 'is required' : HUE_LIGHT) },
      )
      .meta({
        description: 'The light: its CLIP v1 number, or its CLIP v2 id (a uuid).',
        examples: [3, '6f0c9a2e-3b1d-4c5e-9f7a-1b2c3d4e5f60'],
      }),
    insecure: z
      .boolean()
      .default(false)
      .meta({
        description: 'Plain HTTP and CLIP v1 instead of HTTPS (emulators, the round v1 bridge).',
        examples: [false, true],
      }),
    ca: z
      .string()
      .refine((path) => isAbsolute(path), {
        message: 'must be an absolute path to a PEM file (genlock sim hue prints one)',
      })
      .optional()
      .meta({
        description:
          'An absolute path to a PEM file of CAs to trust instead of the Hue bridge root CA (genlock sim hue prints ' +
          'one). The certificate is still checked.',
        examples: ['/home/pi/genlock/hue-sim-ca.pem'],
        pattern: '^/',
      }),
    gamut: z
      .enum(['A', 'B', 'C'])
      .default('C')
      .meta({
        description: "The lamp's colour gamut (the bridge reports it as colorgamuttype), until the bridge reports it.",
        examples: ['C', 'B'],
      }),
  })
  .meta({
    description: 'A Philips Hue light (adapter: hue).',
    examples: [{ id: 'bath_bulb', adapter: 'hue', host: '192.168.1.2', username: '${HUE_USERNAME}', light: 3 }],
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
  .meta({
    anyOf: [
      { const: 'off', description: 'Never read the bulb.' },
      { const: false, description: 'Never read the bulb.' },
      { const: 0, description: 'Never read the bulb.' },
      // Not the map form ({ minutes: 1 }): the union above takes text and numbers only.
      ...DURATION_JSON_FORMS.filter((form) => form.type !== 'object').map((form) =>
        form.type === 'number' ? { ...form, minimum: 100 } : form,
      ),
    ],
  })

export const kasaDeviceSchema = z
  .strictObject({
    ...common,
    adapter: z.literal('kasa').meta({ description: 'A TP-Link Kasa bulb on your network.', examples: ['kasa'] }),
    host,
    port: port.default(9999).meta({
      description: "The legacy protocol's port (TCP, or UDP with transport: udp).",
      examples: [9999],
    }),
    transport: z
      .enum(['tcp', 'udp'])
      .default('tcp')
      .meta({ description: 'How the legacy protocol is sent.', examples: ['tcp', 'udp'] }),
    protocol: z
      .enum(['auto', 'legacy', 'klap'])
      .default('auto')
      .meta({
        description:
          'legacy (port 9999), klap (HTTP, the local protocol of newer firmware), or auto: legacy, and KLAP when the ' +
          'legacy port is closed.',
        examples: ['auto', 'klap'],
      }),
    httpPort: port.default(80).meta({ description: "KLAP's HTTP port.", examples: [80] }),
    username: z
      .string()
      .default('')
      .meta({
        description:
          "KLAP only: the TP-Link account the bulb is bound to (the Kasa app's e-mail); a secret, so write " +
          '${KASA_USERNAME}.',
        examples: ['${KASA_USERNAME}'],
      }),
    password: z
      .string()
      .default('')
      .meta({
        description: 'KLAP only: its password; write ${KASA_PASSWORD} (never logged).',
        examples: ['${KASA_PASSWORD}'],
      }),
    // Kasa bulbs never push their state: reading it every 5 s (as Home Assistant's TP-Link integration does) sees a
    // change made in the Kasa app within seconds for one small request per bulb.
    poll: pollInterval.default(5000).meta({
      description:
        'How often the bulb is read (Kasa bulbs never push their state): a duration of at least 100ms, or off. ' +
        'Default 5s.',
      examples: ['5s', '1m', 'off'],
    }),
  })
  .meta({
    description: 'A TP-Link Kasa bulb (adapter: kasa).',
    examples: [{ id: 'hall_bulb', adapter: 'kasa', host: '192.168.1.40' }],
  })

export const mqttDeviceSchema = z
  .strictObject({
    ...common,
    adapter: z.literal('mqtt').meta({ description: 'A Zigbee2MQTT (or Tasmota) light over MQTT.', examples: ['mqtt'] }),
    topic: z
      .string(required)
      .min(1)
      .refine((topic) => !/[+#]/.test(topic) && !topic.endsWith('/'), {
        message: "must be a plain topic without wildcards or a trailing '/'",
      })
      .meta({
        description:
          "The light's own topic, e.g. zigbee2mqtt/bath_bulb (or the Tasmota device topic with preset: tasmota). " +
          'No wildcards, no trailing /.',
        examples: ['zigbee2mqtt/bath_bulb', 'tasmota_bulb'],
        pattern: '^[^+#]*[^+#/]$',
      }),
    preset: z
      .enum(['zigbee2mqtt', 'tasmota'])
      .default('zigbee2mqtt')
      .meta({
        description: 'zigbee2mqtt JSON lights (default), or tasmota (cmnd/<topic>/..., stat/<topic>/RESULT).',
        examples: ['zigbee2mqtt', 'tasmota'],
      }),
    colorFormat: z
      .enum(['xy', 'rgb'])
      .default('xy')
      .meta({ description: 'How colours are sent to a Zigbee2MQTT light: CIE xy (default) or rgb.', examples: ['xy'] }),
    confirm: z
      .boolean()
      .default(true)
      .meta({
        description: 'Wait for the light to report its new state before a command counts as done.',
        examples: [true, false],
      }),
  })
  .meta({
    description: 'A Zigbee2MQTT or Tasmota light (adapter: mqtt).',
    examples: [{ id: 'kitchen_strip', adapter: 'mqtt', topic: 'zigbee2mqtt/kitchen_strip' }],
  })

/** A device file's fields, by adapter. */
export const deviceSchema = z
  .discriminatedUnion('adapter', [simDeviceSchema, hueDeviceSchema, kasaDeviceSchema, mqttDeviceSchema])
  .meta({
    title: 'genlock device file',
    description: "One bulb (devices/<id>.yaml): its id, its adapter (sim, hue, kasa, mqtt) and that adapter's fields.",
    examples: [{ id: 'bath_bulb', name: 'Bath bulb', adapter: 'sim' }],
  })

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

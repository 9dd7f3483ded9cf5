import { renameSync, writeFileSync } from 'node:fs'
import { stringify } from 'yaml'
import { configSchema } from '../../config/config.js'
import type { ConfigProblem } from '../../config/problems.js'
import { formatProblem } from '../../config/problems.js'
import type { AddonOptions } from './options.js'
import type { MqttService } from './supervisor.js'

/**
 * The environment variables the written config takes the broker login from. The add-on sets them only in its
 * own process, so the login is in no file and on no command line.
 */
export const CREDENTIAL_ENV = { username: 'GENLOCK_MQTT_USERNAME', password: 'GENLOCK_MQTT_PASSWORD' } as const

/** The dashboard listens on every interface of the add-on's container: the ingress proxy is not on loopback. */
const DASHBOARD_HOST = '0.0.0.0'

/**
 * The Supervisor's ingress proxy, the one address Home Assistant add-on docs say ingress requests come from: the
 * dashboard answers it alone (Home Assistant has logged the user in), so no token is needed and nothing else on
 * the add-on network reaches it.
 */
export const INGRESS_PROXY = '172.30.32.2'

/** The top-level keys this genlock's config.yaml accepts. */
export function knownConfigKeys(): ReadonlySet<string> {
  return new Set(Object.keys(configSchema.shape))
}

/** What the add-on knows when it writes genlock's config. */
export interface AddonConfigInput {
  readonly options: AddonOptions
  readonly mqtt: MqttService
  /** config.yaml `ingress_port`, as the Supervisor reports it. */
  readonly ingressPort: number
  /** The add-on's config folder (`addon_config`), which holds devices/ and automations/. */
  readonly configDir: string
  /** Where the daemon keeps its state. */
  readonly dataDir: string
  /**
   * Top-level keys the installed genlock accepts ({@link knownConfigKeys}). Keys that arrive in a later genlock
   * (`manual`, `http`, `data_dir`) are written only once it knows them, so this add-on never writes a config
   * its own daemon rejects.
   */
  readonly knownKeys: ReadonlySet<string>
}

/** genlock's config as a plain object, and notes on options this genlock cannot apply yet. */
export interface AddonConfig {
  readonly document: Record<string, unknown>
  readonly notes: readonly string[]
}

/**
 * genlock's config for the add-on: Home Assistant's broker (login through {@link CREDENTIAL_ENV}), discovery
 * on, devices and automations in the add-on's config folder, the dashboard on the ingress port, readable logs.
 *
 * @example
 * addonConfig({ options, mqtt: { host: 'core-mosquitto', port: 1883, ssl: false, protocol: '3.1.1' }, ... })
 *   .document.mqtt // { url: 'mqtt://core-mosquitto:1883', base_topic: 'genlock' }
 */
export function addonConfig(input: AddonConfigInput): AddonConfig {
  const { options, mqtt, knownKeys } = input
  const notes: string[] = []
  const host = mqtt.host.includes(':') ? `[${mqtt.host}]` : mqtt.host
  const document: Record<string, unknown> = {
    mqtt: {
      url: `${mqtt.ssl ? 'mqtts' : 'mqtt'}://${host}:${mqtt.port}`,
      ...(mqtt.username !== undefined && { username: `\${${CREDENTIAL_ENV.username}}` }),
      ...(mqtt.password !== undefined && { password: `\${${CREDENTIAL_ENV.password}}` }),
      base_topic: options.base_topic,
    },
    devices: `${input.configDir}/devices`,
    automations: `${input.configDir}/automations`,
  }
  if (mqtt.protocol !== '3.1.1') {
    notes.push(`the broker announces MQTT ${mqtt.protocol}; genlock speaks 3.1.1, which the Mosquitto add-on accepts`)
  }
  if (knownKeys.has('data_dir')) document.data_dir = input.dataDir
  if (knownKeys.has('manual')) {
    document.homeassistant = { discovery: true }
    // A bare number is milliseconds in genlock's durations: `0` (momentary) must not become the string "0".
    const hold = /^\d+$/.test(options.manual_hold) ? Number(options.manual_hold) : options.manual_hold
    document.manual = { priority: options.manual_priority, hold }
  } else {
    document.homeassistant = { discovery: true, manual_priority: options.manual_priority }
    notes.push(
      `option manual_hold (${options.manual_hold}) needs a genlock with manual holds; changes from Home Assistant are momentary`,
    )
  }
  if (knownKeys.has('http')) {
    document.http = { port: input.ingressPort, host: DASHBOARD_HOST, ingress_proxy: INGRESS_PROXY }
  } else {
    notes.push('this genlock has no dashboard yet: the sidebar panel stays empty')
  }
  // Pretty lines: the add-on's Log tab shows stdout as plain text, where JSON lines are hard to read.
  document.log = { level: options.log_level, pretty: true }
  return { document, notes }
}

/** The first lines of the written config file. */
const HEADER =
  '# Written by the genlock add-on at every start, from its options and the MQTT broker the Supervisor\n' +
  '# names. Edits here are lost: change the options on the add-on Configuration tab instead.\n'

/** Writes `document` as YAML to `file` in one step (a temporary file renamed over it), readable by all. */
export function writeConfigFile(file: string, document: Record<string, unknown>): void {
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, HEADER + stringify(document), { mode: 0o644 })
  renameSync(temporary, file)
}

/** Which add-on option a field of the written config comes from. */
const OPTION_OF_FIELD: Readonly<Record<string, string>> = {
  'mqtt.base_topic': 'base_topic',
  'homeassistant.manual_priority': 'manual_priority',
  'manual.priority': 'manual_priority',
  'manual.hold': 'manual_hold',
  'log.level': 'log_level',
}

/**
 * The config problems as the user should read them: a problem in a field that comes from an option names the
 * option; anything else is the add-on's own fault and says so.
 */
export function explainProblems(problems: readonly ConfigProblem[]): string {
  return problems
    .map((problem) => {
      const option = OPTION_OF_FIELD[problem.field]
      return option
        ? `option ${option}: ${problem.message} (fix it on the add-on's Configuration tab)`
        : `${formatProblem(problem)} (the add-on wrote this; please report it)`
    })
    .join('\n')
}

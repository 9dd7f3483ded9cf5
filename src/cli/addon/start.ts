import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../config/config.js'
import { createLogger } from '../../config/logger.js'
import { ConfigError } from '../../config/problems.js'
import { CliError } from '../errors.js'
import { addonConfig, CREDENTIAL_ENV, explainProblems, knownConfigKeys, writeConfigFile } from './genlock-config.js'
import { readAddonOptions } from './options.js'
import { becomeUser, lookupUser } from './privileges.js'
import { seedFolders } from './seed.js'
import { SupervisorClient } from './supervisor.js'

/** Where the add-on's folders are inside its container, and whom the daemon runs as. */
export interface AddonStartOptions {
  /** The add-on's private volume (`/data`): options.json from the Supervisor, and genlock's own files. */
  readonly dataDir: string
  /** The add-on's public config folder (`/config`, the `addon_config` map): devices/ and automations/. */
  readonly configDir: string
  /** Example devices/ and automations/ for the first start. */
  readonly seedDir?: string | undefined
  /** The user the daemon runs as once the start is done as root. */
  readonly user?: string | undefined
}

/** The add-on start before the daemon: what `runDaemon` gets. */
export interface PreparedStart {
  readonly configFile: string
  /** The environment the daemon reads `${…}` references from: the broker login is only here. */
  readonly env: NodeJS.ProcessEnv
}

/**
 * Everything the add-on does before the daemon runs: reads its options, asks the Supervisor for the MQTT broker
 * and the ingress port, seeds example files, writes genlock's config (the login stays in the returned env),
 * checks it, and — started as root — hands the state folder to `options.user` and becomes that user.
 */
export async function prepareAddonStart(
  options: AddonStartOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PreparedStart> {
  const addonOptions = readAddonOptions(join(options.dataDir, 'options.json'))
  const logger = createLogger({ level: addonOptions.log_level, pretty: true }).child({ component: 'addon' })

  const supervisor = new SupervisorClient(env.GENLOCK_SUPERVISOR_URL, env.SUPERVISOR_TOKEN)
  logger.info({ supervisor: supervisor.url }, 'asking the Supervisor for the MQTT broker')
  const [mqtt, info] = await Promise.all([supervisor.mqttService(), supervisor.addonInfo()])
  logger.info(
    { host: mqtt.host, port: mqtt.port, ssl: mqtt.ssl, login: mqtt.username !== undefined },
    'MQTT broker from the Supervisor',
  )

  if (options.seedDir) {
    for (const folder of seedFolders(options.seedDir, options.configDir)) {
      logger.info({ folder: join(options.configDir, folder) }, 'first start: example files written')
    }
  }

  const genlockDir = join(options.dataDir, 'genlock')
  const stateDir = join(genlockDir, 'data')
  // Two steps: `recursive` would give genlockDir the state folder's 0700 too, and the daemon's user must get
  // through it to read the config.
  mkdirSync(genlockDir, { recursive: true, mode: 0o755 })
  mkdirSync(stateDir, { recursive: true, mode: 0o700 })
  const configFile = join(genlockDir, 'config.yaml')
  const { document, notes } = addonConfig({
    options: addonOptions,
    mqtt,
    ingressPort: info.ingressPort,
    configDir: options.configDir,
    dataDir: stateDir,
    knownKeys: knownConfigKeys(),
  })
  for (const note of notes) logger.warn(note)
  writeConfigFile(configFile, document)
  logger.debug({ config: document }, 'genlock config (the login stays in the environment)')

  const daemonEnv: NodeJS.ProcessEnv = { ...env }
  // The daemon needs neither; the Supervisor sets both names for the same token.
  delete daemonEnv.SUPERVISOR_TOKEN
  delete daemonEnv.HASSIO_TOKEN
  if (mqtt.username !== undefined) daemonEnv[CREDENTIAL_ENV.username] = mqtt.username
  if (mqtt.password !== undefined) daemonEnv[CREDENTIAL_ENV.password] = mqtt.password
  try {
    loadConfig(configFile, daemonEnv)
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(explainProblems(error.problems))
    throw error
  }
  logger.info({ file: configFile }, 'genlock config written')

  if (options.user) {
    if (process.getuid?.() === 0) {
      becomeUser(lookupUser(options.user), [stateDir])
      logger.info({ user: options.user }, 'running the daemon as an unprivileged user')
    } else {
      logger.warn({ uid: process.getuid?.() }, `not started as root: the daemon runs as this user, not ${options.user}`)
    }
  }
  return { configFile, env: daemonEnv }
}

/** `genlock addon-start`: prepares the add-on ({@link prepareAddonStart}), then runs the daemon in this process. */
export async function addonStart(options: AddonStartOptions): Promise<void> {
  const prepared = await prepareAddonStart(options)
  // Nothing from here on needs the Supervisor token: dropped, so no later code can read it or pass it on.
  delete process.env.SUPERVISOR_TOKEN
  delete process.env.HASSIO_TOKEN
  const { runDaemon } = await import('../run-daemon.js')
  let outcome
  try {
    outcome = await runDaemon(prepared.configFile, { env: prepared.env })
  } catch (error) {
    // A broker that refuses the login says whom it refused; that name came from the Supervisor, not the user.
    const login = [prepared.env[CREDENTIAL_ENV.username], prepared.env[CREDENTIAL_ENV.password]]
    throw new CliError(`genlock could not start: ${redact((error as Error).message, login)}`)
  }
  if (outcome.problems.length > 0) throw new CliError(explainProblems(outcome.problems))
}

/** `text` with each of `secrets` replaced by `***`. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  return secrets.reduce<string>((result, secret) => (secret ? result.split(secret).join('***') : result), text)
}

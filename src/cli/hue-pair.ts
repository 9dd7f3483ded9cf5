import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { BridgeHttps, BridgeHttpError } from '../devices/hue/bridge-https.js'
import { loadNodeHueApi } from '../devices/hue/clip-v1.js'
import { chooseApi } from '../devices/hue/hue-bridge-client.js'
import { deviceId, hueDeviceYaml } from './device-yaml.js'
import { action, CliError, EXIT } from './errors.js'

interface PairOptions {
  readonly insecure?: boolean
  readonly ca?: string
  readonly timeout: string
  readonly app: string
}

/** One light of the bridge, as the device files need it. */
interface PairedLight {
  readonly light: string
  readonly name: string
  readonly color: boolean
  readonly gamut?: string
  /** Kelvin range of its white, when it has one. */
  readonly white?: { readonly min: number; readonly max: number }
}

/** How pairing talks to the bridge: verified HTTPS (v1 pairing, v2 or v1 lights), or plain HTTP (node-hue-api). */
interface PairingLink {
  /** `POST /api`: the application key, or undefined while the link button is not pressed. */
  createKey(devicetype: string): Promise<{ username: string; clientkey?: string } | undefined>
  lights(key: string): Promise<PairedLight[]>
  /** What the log line says about the API the key was checked with. */
  readonly api: string
}

/** `host`, `host:port` or `[v6]:port` → host and optional port. */
export function parseBridgeAddress(address: string): { host: string; port?: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(address)
  const host = match?.[1] ?? match?.[2]
  const port = match?.[3] === undefined ? undefined : Number(match[3])
  if (!host || (port !== undefined && (port < 1 || port > 65_535)))
    throw new CliError(`'${address}' is not a bridge address (give host or host:port, e.g. 192.168.1.20)`)
  return port === undefined ? { host } : { host, port }
}

/** A `POST /api` answer: `[{ success: { username, clientkey } }]` or `[{ error: { type, description } }]`. */
function keyFrom(answer: unknown): { username: string; clientkey?: string } | undefined {
  const first = (Array.isArray(answer) ? answer[0] : undefined) as
    { success?: { username: string; clientkey?: string }; error?: { type: number; description: string } } | undefined
  if (first?.success) return first.success
  if (first?.error?.type === 101) return undefined
  throw new Error(first?.error?.description ?? `unexpected answer ${JSON.stringify(answer).slice(0, 200)}`)
}

const kelvinRange = (schema: { mirek_minimum: number; mirek_maximum: number }) => ({
  min: Math.round(1_000_000 / schema.mirek_maximum / 100) * 100,
  max: Math.round(1_000_000 / schema.mirek_minimum / 100) * 100,
})

async function httpsLink(https: BridgeHttps): Promise<PairingLink> {
  const config = await https.identify()
  const version = chooseApi(config).version
  return {
    api: version === 'v2' ? 'CLIP v2' : 'CLIP v1 (the bridge has no CLIP v2)',
    createKey: async (devicetype) =>
      keyFrom((await https.json('POST', '/api', { body: { devicetype, generateclientkey: true } })).body),
    lights: async (key) => {
      if (version === 'v1') {
        const { body } = await https.json('GET', `/api/${key}/lights`)
        return v1Lights(body)
      }
      // The v2 read with the new key is also the proof that one key serves both APIs.
      const { body } = await https.json('GET', '/clip/v2/resource/light', { key })
      type Light = {
        id: string
        id_v1?: string
        metadata?: { name?: string }
        color?: { gamut_type?: string }
        color_temperature?: { mirek_schema?: { mirek_minimum: number; mirek_maximum: number } }
      }
      return (body as { data: Light[] }).data.map((light) => {
        const schema = light.color_temperature?.mirek_schema
        const gamut = light.color?.gamut_type
        return {
          light: light.id_v1?.replace('/lights/', '') ?? light.id,
          name: light.metadata?.name ?? light.id,
          color: light.color !== undefined,
          ...(gamut && /^[ABC]$/.test(gamut) ? { gamut } : {}),
          ...(schema ? { white: kelvinRange(schema) } : {}),
        }
      })
    },
  }
}

function v1Lights(body: unknown): PairedLight[] {
  const lights = body as Record<
    string,
    { name: string; type: string; capabilities?: { control?: { colorgamuttype?: string } } }
  >
  return Object.entries(lights).map(([id, light]) => {
    const gamut = light.capabilities?.control?.colorgamuttype
    return {
      light: id,
      name: light.name,
      color: /color light/i.test(light.type),
      ...(gamut && /^[ABC]$/.test(gamut) ? { gamut } : {}),
    }
  })
}

async function insecureLink(host: string, port: number | undefined): Promise<PairingLink> {
  process.env.NODE_HUE_API_USE_INSECURE_CONNECTION ??= '1'
  const { v3 } = await loadNodeHueApi()
  const bootstrap = v3.api.createInsecureLocal(host, port)
  type Users = { users: { createUser(app: string, device: string): Promise<{ username: string; clientkey?: string }> } }
  const api = (await bootstrap.connect()) as Users
  return {
    api: 'CLIP v1 over plain HTTP (--insecure)',
    createKey: async (devicetype) => {
      const [app, device] = devicetype.split('#') as [string, string]
      try {
        return await api.users.createUser(app, device)
      } catch (error) {
        const type = (error as { getHueErrorType?: () => number }).getHueErrorType?.()
        if (type === 101 || /link button not pressed/i.test(String((error as Error).message))) return undefined
        throw error
      }
    },
    lights: async (key) => {
      const authed = (await bootstrap.connect(key)) as {
        lights: { getAll(): Promise<{ id: number; name: string; type: string; mappedColorGamut?: string | null }[]> }
      }
      return (await authed.lights.getAll()).map((light) => ({
        light: String(light.id),
        name: light.name,
        color: /color light/i.test(light.type),
        ...(light.mappedColorGamut && /^[ABC]$/.test(light.mappedColorGamut) ? { gamut: light.mappedColorGamut } : {}),
      }))
    },
  }
}

function describeError(error: unknown): string {
  return error instanceof BridgeHttpError ? error.description : (error as Error).message
}

/**
 * `genlock hue pair <bridge>`: checks the bridge's certificate, waits for the link button with a countdown,
 * creates an application key (one key for CLIP v1 and v2), and prints the environment line and a device file per
 * light.
 */
export function addHuePairCommand(program: Command): void {
  const hue = program.command('hue').description('Philips Hue helpers')
  hue
    .command('pair')
    .description('create an application key on a Hue bridge: press its link button when asked')
    .argument('<bridge-host>', 'the bridge address: host or host:port')
    .option('--ca <file>', 'trust this CA (PEM) instead of the Hue bridge root CA (genlock sim hue prints its file)')
    .option('--insecure', 'plain HTTP and CLIP v1 (emulators, the round v1 bridge)')
    .option('--timeout <seconds>', 'how long to wait for the link button', '30')
    .option('--app <name>', 'the application name the bridge records', 'genlock')
    .addHelpText(
      'after',
      '\nExamples:\n  $ genlock hue pair 192.168.1.20\n  $ genlock hue pair 127.0.0.1:8080 --ca /tmp/genlock-sim-hue-…-ca.pem   # against genlock sim hue',
    )
    .action(
      action('hue pair', async (address: string, options: PairOptions) => {
        const { host, port } = parseBridgeAddress(address)
        const seconds = Number(options.timeout)
        if (!Number.isFinite(seconds) || seconds <= 0)
          throw new CliError('--timeout must be a positive number of seconds')
        if (options.insecure && options.ca) throw new CliError('give --ca or --insecure, not both')
        let ca: string | undefined
        if (options.ca) {
          try {
            ca = readFileSync(options.ca, 'utf8')
          } catch (error) {
            throw new CliError(`cannot read --ca ${options.ca}: ${(error as Error).message}`)
          }
        }
        const https = options.insecure ? undefined : new BridgeHttps(host, port ?? 443, ca ? { ca: [ca] } : {})
        let link: PairingLink
        try {
          link = https ? await httpsLink(https) : await insecureLink(host, port)
        } catch (error) {
          https?.close()
          throw new CliError(`cannot reach the Hue bridge at ${address}: ${describeError(error)}`, EXIT.unreachable)
        }
        try {
          await pair(address, host, port, options, seconds, link, ca ? resolve(options.ca!) : undefined)
        } finally {
          https?.close()
        }
      }),
    )
}

async function pair(
  address: string,
  host: string,
  port: number | undefined,
  options: PairOptions,
  seconds: number,
  link: PairingLink,
  caFile: string | undefined,
): Promise<void> {
  const device = (hostname().replace(/[^A-Za-z0-9 _-]/g, '') || 'cli').slice(0, 19)
  const devicetype = `${options.app.slice(0, 20).replace(/#/g, '')}#${device}`
  const deadline = Date.now() + seconds * 1000
  const tty = process.stdout.isTTY
  let lastShown = -1
  let credentials: { username: string; clientkey?: string } | undefined
  process.stdout.write(`Press the link button on the Hue bridge at ${address} (waiting ${seconds} s)\n`)
  while (!credentials) {
    try {
      credentials = await link.createKey(devicetype)
    } catch (error) {
      throw new CliError(`the Hue bridge at ${address} refused pairing: ${describeError(error)}`, EXIT.unreachable)
    }
    if (credentials) break
    const left = Math.ceil((deadline - Date.now()) / 1000)
    if (left <= 0)
      throw new CliError(
        `the link button on ${address} was not pressed within ${seconds} s: press it, then run genlock hue pair again`,
        EXIT.timedOut,
      )
    if (tty) process.stdout.write(`\r  waiting for the link button… ${left} s `)
    else if (left !== lastShown && left % 5 === 0) process.stdout.write(`  waiting for the link button… ${left} s\n`)
    lastShown = left
    // The bridge has no push for the button; asking once a second is how pairing works.
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(0, deadline - Date.now()))))
  }
  if (tty) process.stdout.write('\r\x1b[K')
  const envVar = 'HUE_USERNAME'
  const lines = [
    `Paired with the Hue bridge at ${address}.`,
    '',
    'Keep these secret (in your environment or a .env file, not in git):',
    `  export ${envVar}=${credentials.username}`,
    ...(credentials.clientkey ? [`  export HUE_CLIENTKEY=${credentials.clientkey}`] : []),
    `(one key for both APIs: the CLIP v1 username and the CLIP v2 hue-application-key)`,
    '',
  ]
  let lights: PairedLight[] = []
  try {
    lights = await link.lights(credentials.username)
  } catch (error) {
    lines.push(`(could not list the lights: ${describeError(error)})`)
  }
  if (lights.length > 0) lines.push(`Device files, one per light (read with ${link.api}):`, '')
  for (const light of lights) {
    lines.push(
      hueDeviceYaml({
        id: deviceId(light.name),
        name: light.name,
        host,
        ...(port === undefined ? {} : { port }),
        light: light.light,
        insecure: options.insecure === true,
        ...(caFile ? { ca: caFile } : {}),
        envVar,
        color: light.color,
        ...(light.gamut ? { gamut: light.gamut } : {}),
        ...(light.white ? { white: light.white } : {}),
      }),
      '',
    )
  }
  process.stdout.write(`${lines.join('\n')}\n`)
}

import { hostname } from 'node:os'
import type { Command } from 'commander'
import { deviceId, hueDeviceYaml } from './device-yaml.js'
import { action, CliError, EXIT } from './errors.js'

interface PairOptions {
  readonly insecure?: boolean
  readonly timeout: string
  readonly app: string
}

/** The parts of node-hue-api's v3 API pairing uses, typed here so the command does not lean on its d.ts. */
interface HueLight {
  readonly id: number | string
  readonly name: string
  readonly type: string
  readonly mappedColorGamut?: string | null
}
interface HueApi {
  readonly users: { createUser(app: string, device: string): Promise<{ username: string; clientkey?: string }> }
  readonly lights: { getAll(): Promise<HueLight[]> }
}
interface HueBootstrap {
  connect(username?: string): Promise<HueApi>
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

/** node-hue-api's error as `why`: a Hue error type, or a network error code. */
function hueErrorType(error: unknown): number | undefined {
  return (error as { getHueErrorType?: () => number }).getHueErrorType?.()
}

const isLinkButtonError = (error: unknown) =>
  hueErrorType(error) === 101 || /link button not pressed/i.test(String((error as Error)?.message))

/**
 * `genlock hue pair <bridge>`: waits for the link button with a countdown, creates an application key, and prints
 * the environment lines and the device files for the bridge's lights.
 */
export function addHuePairCommand(program: Command): void {
  const hue = program.command('hue').description('Philips Hue helpers')
  hue
    .command('pair')
    .description('create a username on a Hue bridge: press its link button when asked')
    .argument('<bridge-host>', 'the bridge address: host or host:port')
    .option('--insecure', 'plain HTTP instead of HTTPS (simulated bridges, emulators)')
    .option('--timeout <seconds>', 'how long to wait for the link button', '30')
    .option('--app <name>', 'the application name the bridge records', 'genlock')
    .addHelpText(
      'after',
      '\nExamples:\n  $ genlock hue pair 192.168.1.20\n  $ genlock hue pair 127.0.0.1:8080 --insecure --timeout 60   # against genlock sim hue',
    )
    .action(
      action('hue pair', async (address: string, options: PairOptions) => {
        const { host, port } = parseBridgeAddress(address)
        const seconds = Number(options.timeout)
        if (!Number.isFinite(seconds) || seconds <= 0)
          throw new CliError('--timeout must be a positive number of seconds')
        if (options.insecure) process.env.NODE_HUE_API_USE_INSECURE_CONNECTION ??= '1'
        const { v3 } = await import('node-hue-api')
        const bootstrap = (options.insecure
          ? v3.api.createInsecureLocal(host, port)
          : v3.api.createLocal(host, port)) as unknown as HueBootstrap
        let api: HueApi
        try {
          api = await bootstrap.connect()
        } catch (error) {
          throw new CliError(`cannot reach the Hue bridge at ${address}: ${(error as Error).message}`, EXIT.unreachable)
        }
        const device = (hostname().replace(/[^A-Za-z0-9 _-]/g, '') || 'cli').slice(0, 19)
        const app = options.app.slice(0, 20)
        const deadline = Date.now() + seconds * 1000
        const tty = process.stdout.isTTY
        let lastShown = -1
        let credentials: { username: string; clientkey?: string } | undefined
        process.stdout.write(`Press the link button on the Hue bridge at ${address} (waiting ${seconds} s)\n`)
        while (!credentials) {
          try {
            credentials = await api.users.createUser(app, device)
          } catch (error) {
            if (!isLinkButtonError(error))
              throw new CliError(
                `the Hue bridge at ${address} refused pairing: ${(error as Error).message}`,
                EXIT.unreachable,
              )
            const left = Math.ceil((deadline - Date.now()) / 1000)
            if (left <= 0)
              throw new CliError(
                `the link button on ${address} was not pressed within ${seconds} s: press it, then run genlock hue pair again`,
                EXIT.timedOut,
              )
            if (tty) process.stdout.write(`\r  waiting for the link button… ${left} s `)
            else if (left !== lastShown && left % 5 === 0)
              process.stdout.write(`  waiting for the link button… ${left} s\n`)
            lastShown = left
            // The bridge has no push for the button; asking once a second is how pairing works.
            await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(0, deadline - Date.now()))))
          }
        }
        if (tty) process.stdout.write('\r\x1b[K')
        const envVar = 'HUE_USERNAME'
        const lines = [
          `Paired with the Hue bridge at ${address}.`,
          '',
          'Keep these secret (in your environment or a .env file, not in git):',
          `  export ${envVar}=${credentials.username}`,
          ...(credentials.clientkey ? [`  export HUE_CLIENTKEY=${credentials.clientkey}`] : []),
          '',
        ]
        let lights: HueLight[] = []
        try {
          const authed = await bootstrap.connect(credentials.username)
          lights = await authed.lights.getAll()
        } catch (error) {
          lines.push(`(could not list the lights: ${(error as Error).message})`)
        }
        if (lights.length > 0) lines.push('Device files, one per light:', '')
        for (const light of lights) {
          const color = /color light/i.test(light.type)
          const gamut =
            light.mappedColorGamut && /^[ABC]$/.test(light.mappedColorGamut) ? light.mappedColorGamut : undefined
          lines.push(
            hueDeviceYaml({
              id: deviceId(light.name),
              name: light.name,
              host,
              ...(port === undefined ? {} : { port }),
              light: String(light.id),
              insecure: options.insecure === true,
              envVar,
              color,
              ...(gamut ? { gamut } : {}),
            }),
            '',
          )
        }
        process.stdout.write(`${lines.join('\n')}\n`)
      }),
    )
}

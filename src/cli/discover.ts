import type { Command } from 'commander'
import { kasaDeviceYaml } from './device-yaml.js'
import { discoverHue, MDNS_ADDRESS, SSDP_ADDRESS, type FoundHueBridge } from './discovery/hue.js'
import { discoverKasa, type FoundKasaDevice } from './discovery/kasa.js'
import { action, CliError } from './errors.js'

interface DiscoverOptions {
  readonly broadcast: string
  readonly kasaPort: string
  readonly ssdp: string
  readonly mdns: string
  readonly timeout: string
  readonly kasa: boolean
  readonly hue: boolean
}

const FRAMES = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏'

/** A spinner on stderr while discovery runs (only on a terminal), with a running count. */
function spinner(label: () => string): () => void {
  if (!process.stderr.isTTY) return () => undefined
  let frame = 0
  const timer = setInterval(() => process.stderr.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label()}\x1b[K`), 80)
  return () => {
    clearInterval(timer)
    process.stderr.write('\r\x1b[K')
  }
}

/** `genlock discover`: Kasa bulbs by UDP broadcast and Hue bridges by SSDP, printed as device YAML. */
export function addDiscoverCommand(program: Command): void {
  program
    .command('discover')
    .description('find Kasa bulbs and Hue bridges on the LAN and print ready-to-save device YAML')
    .option('--broadcast <address>', 'where Kasa discovery is sent', '255.255.255.255')
    .option('--kasa-port <port>', 'the UDP port Kasa devices answer discovery on', '9999')
    .option('--ssdp <host:port>', 'where the Hue SSDP search is sent (older bridges)', SSDP_ADDRESS)
    .option('--mdns <host:port>', 'where the Hue mDNS query for _hue._tcp.local is sent', MDNS_ADDRESS)
    .option('--timeout <ms>', 'how long to listen for answers', '3000')
    .option('--no-kasa', 'skip Kasa discovery')
    .option('--no-hue', 'skip Hue discovery')
    .addHelpText(
      'after',
      '\nExamples:\n  $ genlock discover > found.yaml\n' +
        '  $ genlock discover --broadcast 127.0.0.1 --kasa-port 9999 --ssdp 127.0.0.1:8080 --mdns 127.0.0.1:8080   # genlock sim kasa/hue',
    )
    .action(
      action('discover', async (options: DiscoverOptions) => {
        const timeoutMs = Number(options.timeout)
        const kasaPort = Number(options.kasaPort)
        if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
          throw new CliError('--timeout must be a positive number of ms')
        if (!Number.isInteger(kasaPort) || kasaPort < 1 || kasaPort > 65_535)
          throw new CliError('--kasa-port must be a port number from 1 to 65535')
        for (const [flag, value, example] of [
          ['--ssdp', options.ssdp, SSDP_ADDRESS],
          ['--mdns', options.mdns, MDNS_ADDRESS],
        ] as const) {
          if (!/^[^:\s]+:\d{1,5}$/.test(value)) throw new CliError(`${flag} must be host:port, e.g. ${example}`)
        }
        let kasaCount = 0
        let hueCount = 0
        const stop = spinner(
          () =>
            `discovering… ${kasaCount} Kasa device${kasaCount === 1 ? '' : 's'}, ${hueCount} Hue bridge${hueCount === 1 ? '' : 's'}`,
        )
        let found: [FoundKasaDevice[], FoundHueBridge[]]
        try {
          found = await Promise.all([
            options.kasa
              ? discoverKasa({ broadcast: options.broadcast, port: kasaPort, timeoutMs, found: () => kasaCount++ })
              : [],
            options.hue
              ? discoverHue({ ssdp: options.ssdp, mdns: options.mdns, timeoutMs, found: () => hueCount++ })
              : [],
          ])
        } finally {
          stop()
        }
        const [kasa, bridges] = found
        const out: string[] = []
        for (const device of kasa
          .filter((found) => found.kind === 'bulb')
          .sort((a, b) => a.alias.localeCompare(b.alias)))
          out.push(kasaDeviceYaml(device), '')
        for (const plug of kasa.filter((found) => found.kind === 'plug'))
          out.push(`# ${plug.alias} (${plug.model}) at ${plug.host}:${plug.port} is a plug, not a bulb: skipped`, '')
        for (const bridge of bridges) {
          const address = `${bridge.host}${bridge.port === undefined ? '' : `:${bridge.port}`}`
          out.push(
            `# Hue bridge "${bridge.name}" (${bridge.id}) at ${address}`,
            `#   pair with: genlock hue pair ${address}${bridge.port === undefined ? '' : ' --insecure'}`,
            '#   (that prints one device file per light)',
            '',
          )
        }
        if (out.length === 0) {
          process.stderr.write(`no Kasa bulbs or Hue bridges answered within ${timeoutMs} ms\n`)
          return
        }
        process.stdout.write(`${out.join('\n')}`)
        process.stderr.write(
          `found ${kasa.length} Kasa device${kasa.length === 1 ? '' : 's'} and ${bridges.length} Hue bridge${bridges.length === 1 ? '' : 's'}\n`,
        )
      }),
    )
}

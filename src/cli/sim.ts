import { createInterface } from 'node:readline'
import { Argument, type Command } from 'commander'
import type { HueBridgeSimulator } from '../simulators/hue-bridge.js'
import type { KasaSimulator } from '../simulators/kasa.js'
import type { Zigbee2MqttLights } from '../simulators/zigbee2mqtt-lights.js'
import { redactUrl } from '../mqtt/logger.js'
import { hueDeviceYaml, kasaDeviceYaml, mqttDeviceYaml } from './device-yaml.js'
import { action, CliError, EXIT } from './errors.js'

interface SimOptions {
  readonly port?: string
  readonly count: string
  readonly host: string
  readonly broker: string
  readonly baseTopic: string
}

function integer(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  const number = Number(value)
  if (!Number.isInteger(number) || number < min || number > max)
    throw new CliError(`${name} must be a whole number from ${min} to ${max}, not '${value}'`)
  return number
}

/** Runs until SIGINT/SIGTERM, then stops `stop` and exits 0. */
function untilSignal(stop: () => Promise<void>): void {
  const end = () => void stop().finally(() => process.exit(0))
  process.once('SIGINT', end)
  process.once('SIGTERM', end)
}

const say = (line: string) => process.stdout.write(`${line}\n`)

async function simKasa(options: SimOptions, count: number): Promise<void> {
  const port = integer(options.port, '--port', 0, 65_535) ?? 9999
  const { KasaSimulator } = await import('../simulators/kasa.js')
  let sim: KasaSimulator
  try {
    sim = await KasaSimulator.start({ host: options.host, port, count })
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.unreachable)
  }
  say(`Kasa simulator: ${count} bulbs; discovery on udp ${options.host}:${sim.discoveryPort}`)
  for (const bulb of sim.bulbs) say(`  ${bulb.alias} (${bulb.model}) on ${bulb.host}:${bulb.port}`)
  say('\nDevice files:\n')
  for (const bulb of sim.bulbs) say(`${kasaDeviceYaml(bulb)}\n`)
  say('ready; Ctrl-C stops')
  untilSignal(() => sim.stop())
}

async function simHue(options: SimOptions, count: number): Promise<void> {
  const port = integer(options.port, '--port', 0, 65_535) ?? 8080
  const { HueBridgeSimulator } = await import('../simulators/hue-bridge.js')
  let bridge: HueBridgeSimulator
  try {
    bridge = await HueBridgeSimulator.start({ host: options.host, port, count })
  } catch (error) {
    throw new CliError(
      `cannot start the Hue bridge simulator on ${options.host}:${port}: ${(error as Error).message}`,
      EXIT.unreachable,
    )
  }
  const where = `${bridge.host}:${bridge.port}`
  say(`Hue bridge simulator on ${bridge.url} (bridge id ${bridge.bridgeId}) with ${count} lights`)
  say(`  pair with:   genlock hue pair ${where} --insecure`)
  say(`  link button: press Enter here (or POST ${bridge.url}/sim/linkbutton)`)
  say('\nDevice files, once paired (export HUE_USERNAME=<the username hue pair printed>):\n')
  for (const [id, lamp] of Object.entries(bridge.lights)) {
    const color = lamp.type === 'Extended color light'
    say(
      `${hueDeviceYaml({ id: `hue_light_${id}`, name: String(lamp.name), host: bridge.host, port: bridge.port, light: id, insecure: true, envVar: 'HUE_USERNAME', color, gamut: 'C' })}\n`,
    )
  }
  bridge.on('event', (event) => {
    // Usernames are secrets: the console says who paired, never the key itself.
    if (event.type === 'linkbutton')
      say(event.open ? 'link button pressed: pairing is open for 30 s' : 'link button window closed')
    else if (event.type === 'paired') say(`paired: ${event.devicetype}`)
    else if (event.type === 'refused') say(`refused ${event.devicetype}: link button not pressed`)
    else say(`light ${event.id}: ${JSON.stringify(event.state)}`)
  })
  createInterface({ input: process.stdin }).on('line', () => bridge.pressLinkButton())
  say('ready; Ctrl-C stops')
  untilSignal(() => bridge.stop())
}

async function simMqtt(options: SimOptions, count: number): Promise<void> {
  let url = options.broker
  if (options.port !== undefined) {
    const parsed = new URL(url)
    parsed.port = String(integer(options.port, '--port', 1, 65_535))
    url = parsed.toString().replace(/\/$/, '')
  }
  const { Zigbee2MqttLights } = await import('../simulators/zigbee2mqtt-lights.js')
  let lights: Zigbee2MqttLights
  try {
    lights = await Zigbee2MqttLights.start({ url, count, baseTopic: options.baseTopic })
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.unreachable)
  }
  say(`Zigbee2MQTT-style lights on ${redactUrl(url)}: ${lights.topics.join(', ')}`)
  say('\nDevice files:\n')
  for (const topic of lights.topics) say(`${mqttDeviceYaml({ id: topic.split('/').at(-1)!, topic })}\n`)
  lights.onCommand((name, command) => say(`${name}: ${JSON.stringify(command)}`))
  say('ready; Ctrl-C stops')
  untilSignal(() => lights.stop())
}

/** `genlock sim kasa|hue|mqtt`: network-level bulb simulators, so the real adapters run without hardware. */
export function addSimCommand(program: Command): void {
  program
    .command('sim')
    .description('simulate Kasa bulbs, a Hue bridge or Zigbee2MQTT lights on the network, for the real adapters')
    .addArgument(new Argument('<kind>', 'what to simulate').choices(['kasa', 'hue', 'mqtt']))
    .option(
      '-p, --port <port>',
      'kasa: discovery port, bulbs on the next ones (9999); hue: HTTP port (8080); mqtt: broker port',
    )
    .option('-n, --count <count>', 'how many bulbs or lights', '2')
    .option('--host <address>', 'address to listen on (kasa, hue)', '127.0.0.1')
    .option('-b, --broker <url>', 'mqtt: the broker the lights connect to', 'mqtt://127.0.0.1:1883')
    .option('--base-topic <topic>', "mqtt: Zigbee2MQTT's base topic", 'zigbee2mqtt')
    .addHelpText(
      'after',
      '\nExamples:\n  $ genlock sim kasa --count 3              # then: genlock discover --broadcast 127.0.0.1\n' +
        '  $ genlock sim hue --port 8080             # press Enter to press the link button\n' +
        '  $ genlock sim mqtt --broker mqtt://127.0.0.1:1884 --count 2',
    )
    .action(
      action('sim', async (kind: 'kasa' | 'hue' | 'mqtt', options: SimOptions) => {
        const count = integer(options.count, '--count', 1, 250)!
        if (kind === 'kasa') await simKasa(options, count)
        else if (kind === 'hue') await simHue(options, count)
        else await simMqtt(options, count)
      }),
    )
}

import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Argument, Option, type Command } from 'commander'
import type { HueBridgeSimulator } from '../simulators/hue-bridge.js'
import type { KasaSimulator } from '../simulators/kasa.js'
import type { Zigbee2MqttLights } from '../simulators/zigbee2mqtt-lights.js'
import { redactUrl } from '../mqtt/logger.js'
import { hueDeviceYaml, kasaDeviceYaml, mqttDeviceYaml } from './device-yaml.js'
import { action, CliError, EXIT } from './errors.js'

interface SimOptions {
  readonly port?: string
  readonly protocol: 'legacy' | 'klap'
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

/** The longest a simulator may take to stop after SIGINT/SIGTERM before it exits anyway. */
const STOP_DEADLINE_MS = 5000

/**
 * Runs until SIGINT/SIGTERM, then stops `stop` and exits 0. A stop that hangs (a broker that is down, a peer that
 * does not answer) never keeps the process alive: it exits after 5 s, or at once on a second signal.
 */
function untilSignal(stop: () => Promise<void>): void {
  let stopping = false
  const end = () => {
    if (stopping) process.exit(0)
    stopping = true
    setTimeout(() => {
      process.stderr.write(`genlock sim: stopping took over ${STOP_DEADLINE_MS} ms; exiting anyway\n`)
      process.exit(0)
    }, STOP_DEADLINE_MS).unref()
    void stop()
      .catch(() => undefined)
      .finally(() => process.exit(0))
  }
  process.on('SIGINT', end)
  process.on('SIGTERM', end)
}

const say = (line: string) => process.stdout.write(`${line}\n`)

async function simKasa(options: SimOptions, count: number): Promise<void> {
  const port = integer(options.port, '--port', 0, 65_535) ?? 9999
  const { KasaSimulator } = await import('../simulators/kasa.js')
  const klap = options.protocol === 'klap'
  // KLAP bulbs are bound to a TP-Link account; the simulated ones take it from the same variables the files name.
  const credentials = { username: process.env.KASA_USERNAME ?? '', password: process.env.KASA_PASSWORD ?? '' }
  let sim: KasaSimulator
  try {
    sim = await KasaSimulator.start({ host: options.host, port, count, protocol: options.protocol, credentials })
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.unreachable)
  }
  say(
    `Kasa simulator: ${count} ${klap ? 'KLAP ' : ''}bulbs; ` +
      (klap
        ? 'no legacy discovery (KLAP bulbs do not answer it)'
        : `discovery on udp ${options.host}:${sim.discoveryPort}`),
  )
  for (const bulb of sim.bulbs)
    say(`  ${bulb.alias} (${bulb.model}) on ${klap ? 'http ' : ''}${bulb.host}:${bulb.port}`)
  if (klap) {
    say(
      credentials.username === ''
        ? '  account: none (a bulb never bound to the cloud); any KASA_USERNAME/KASA_PASSWORD works'
        : '  account: the KASA_USERNAME/KASA_PASSWORD this simulator was started with',
    )
  }
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
  // Clients verify the bridge's certificate; the simulator's is signed by its own CA, which they must be given.
  const caFile = join(tmpdir(), `genlock-sim-hue-${bridge.bridgeId.toLowerCase()}-ca.pem`)
  writeFileSync(caFile, bridge.ca)
  const where = `${bridge.host}:${bridge.port}`
  say(`Hue bridge simulator on https://${where} (bridge id ${bridge.bridgeId}) with ${count} lights`)
  say(`  its CA:      ${caFile}`)
  say(`  pair with:   genlock hue pair ${where} --ca ${caFile}`)
  say(`  link button: press Enter here (or POST ${bridge.url}/sim/linkbutton)`)
  say('  the Hue app: type "<light> on|off|<percent>", "<light> unplug|plug", or "drop" (ends the event streams)')
  say('\nDevice files, once paired (export HUE_USERNAME=<the key hue pair printed>):\n')
  for (const lamp of bridge.lights) {
    say(
      `${hueDeviceYaml({ id: `hue_light_${lamp.number}`, name: lamp.name, host: bridge.host, port: bridge.port, light: String(lamp.number), insecure: false, ca: caFile, envVar: 'HUE_USERNAME', color: lamp.color, gamut: 'C' })}\n`,
    )
  }
  bridge.on('event', (event) => {
    // Application keys are secrets: the console says who paired, never the key itself.
    if (event.type === 'linkbutton')
      say(event.open ? 'link button pressed: pairing is open for 30 s' : 'link button window closed')
    else if (event.type === 'paired') say(`paired: ${event.devicetype}`)
    else if (event.type === 'refused') say(`refused ${event.devicetype}: link button not pressed`)
    else if (event.type === 'light') say(`light ${event.number} (${event.by}): ${JSON.stringify(event.state)}`)
    else if (event.type === 'connectivity')
      say(`light ${event.number}: ${event.connected ? 'connected' : 'unreachable'}`)
    else say(`event streams open: ${event.open}`)
  })
  createInterface({ input: process.stdin }).on('line', (line) => simHueConsole(bridge, line.trim()))
  say('ready; Ctrl-C stops')
  untilSignal(async () => {
    await bridge.stop()
    rmSync(caFile, { force: true })
  })
}

/** One console line of `genlock sim hue`: Enter presses the link button; the rest act as a person would. */
function simHueConsole(bridge: HueBridgeSimulator, line: string): void {
  const [number, what] = line.split(/\s+/)
  const light = Number(number)
  const known = Number.isInteger(light) && light >= 1 && light <= bridge.lights.length
  if (line === '') bridge.pressLinkButton()
  else if (line === 'drop') bridge.dropEventStreams()
  else if (known && (what === 'on' || what === 'off')) bridge.changeFromApp(light, { on: what === 'on' })
  else if (known && (what === 'unplug' || what === 'plug')) bridge.setConnected(light, what === 'plug')
  else if (known && /^\d+$/.test(what ?? '') && Number(what) <= 100)
    bridge.changeFromApp(light, { on: true, brightness: Number(what) })
  else say(`? "${line}": type "<light 1-${bridge.lights.length}> on|off|<percent>|unplug|plug", or "drop"`)
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
  lights.onReconnect(() => say(`reconnected to ${url}: lights announced again`))
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
      'kasa: discovery port, bulbs on the next ones (9999); hue: HTTPS and HTTP port (8080); mqtt: broker port',
    )
    .option('-n, --count <count>', 'how many bulbs or lights', '2')
    .addOption(
      new Option('--protocol <protocol>', 'kasa: legacy (port 9999) or klap (HTTP, newer firmware)')
        .choices(['legacy', 'klap'])
        .default('legacy'),
    )
    .option('--host <address>', 'address to listen on (kasa, hue)', '127.0.0.1')
    .option('-b, --broker <url>', 'mqtt: the broker the lights connect to', 'mqtt://127.0.0.1:1883')
    .option('--base-topic <topic>', "mqtt: Zigbee2MQTT's base topic", 'zigbee2mqtt')
    .addHelpText(
      'after',
      '\nExamples:\n  $ genlock sim kasa --count 3              # then: genlock discover --broadcast 127.0.0.1\n' +
        '  $ KASA_USERNAME=me@example.com KASA_PASSWORD=secret genlock sim kasa --protocol klap\n' +
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

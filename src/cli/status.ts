import type { Command } from 'commander'
import { toHex } from '../devices/color.js'
import { brokerOptions, connectToBroker, type BrokerOptions } from './broker.js'
import { readDaemonState, type DaemonState, type PublishedDevice } from './daemon-state.js'
import { action } from './errors.js'
import { table } from './render/table.js'

function colourOf(device: PublishedDevice): string {
  const state = device.state
  if (state?.color) return toHex(state.color)
  if (state?.colorTemp !== undefined) return `${state.colorTemp}K`
  return '-'
}

/** `manual (12m left)`: the holder, and while a person's change holds the bulb how long the hold has to go. */
function heldBy(device: PublishedDevice, now: number): string {
  const holder = device.holder ?? '-'
  const until = device.hold?.until === undefined ? NaN : Date.parse(device.hold.until)
  if (Number.isNaN(until)) return holder
  const seconds = Math.max(0, Math.round((until - now) / 1000))
  const left = seconds >= 120 ? `${Math.round(seconds / 60)}m` : `${seconds}s`
  // A hold waiting behind a higher holder (the alarm) comes back when that one ends.
  return holder === 'manual' ? `manual (${left} left)` : `${holder} (manual hold: ${left} left)`
}

/** The `genlock status` tables: the daemon's status line, then devices, then automations. */
export function formatStatus(state: DaemonState, url: string, baseTopic: string, now = Date.now()): string {
  const devices = table(
    ['DEVICE', 'ADAPTER', 'POWER', 'BRIGHTNESS', 'COLOUR', 'REACHABLE', 'HELD BY'],
    state.devices.map((device) => [
      device.id,
      device.adapter ?? '-',
      device.state?.on === undefined ? '-' : device.state.on ? 'on' : 'off',
      device.state?.brightness === undefined ? '-' : `${Math.round(device.state.brightness)}%`,
      colourOf(device),
      device.state?.reachable === false ? 'no' : 'yes',
      heldBy(device, now),
    ]),
  )
  const automations = table(
    ['AUTOMATION', 'STATE', 'LAST ERROR'],
    state.automations.map((automation) => [automation.name, automation.state, automation.lastError ?? '']),
  )
  return [
    `genlock on ${url} (${baseTopic}/#): ${state.status ?? 'never seen'}`,
    '',
    state.devices.length > 0 ? devices : 'no devices published',
    '',
    state.automations.length > 0 ? automations : 'no automations published',
    '',
  ].join('\n')
}

/** `genlock status`: reads the daemon's retained state topics and prints devices, holders and automations. */
export function addStatusCommand(program: Command): void {
  brokerOptions(
    program
      .command('status')
      .description("print the bulbs, their holders and the automations' states from the daemon's retained topics"),
  )
    .option('--json', 'print the state as JSON instead of tables')
    .addHelpText(
      'after',
      '\nExample:\n  $ genlock status --config config.yaml\n  $ genlock status --broker mqtt://pi.local:1883 --json',
    )
    .action(
      action('status', async (options: BrokerOptions & { json?: boolean }) => {
        const { client, url, baseTopic } = await connectToBroker(options)
        try {
          const state = await readDaemonState(client, baseTopic)
          process.stdout.write(
            options.json ? `${JSON.stringify(state, null, 2)}\n` : formatStatus(state, url, baseTopic),
          )
        } finally {
          await client.close()
        }
      }),
    )
}

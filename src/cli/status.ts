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

/** The `genlock status` tables: the daemon's status line, then devices, then automations. */
export function formatStatus(state: DaemonState, url: string, baseTopic: string): string {
  const devices = table(
    ['DEVICE', 'ADAPTER', 'POWER', 'BRIGHTNESS', 'COLOUR', 'REACHABLE', 'HELD BY'],
    state.devices.map((device) => [
      device.id,
      device.adapter ?? '-',
      device.state?.on === undefined ? '-' : device.state.on ? 'on' : 'off',
      device.state?.brightness === undefined ? '-' : `${Math.round(device.state.brightness)}%`,
      colourOf(device),
      device.state?.reachable === false ? 'no' : 'yes',
      device.holder ?? '-',
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

import type { Command } from 'commander'
import { brokerOptions, connectToBroker, type BrokerOptions } from './broker.js'
import { readDaemonState } from './daemon-state.js'
import { action, CliError } from './errors.js'

/**
 * `genlock trigger <automation> [on|off]`: publishes ON or OFF to `<base>/automation/<name>/set`, after checking
 * that the daemon has published an automation of that name.
 */
export function addTriggerCommand(program: Command): void {
  brokerOptions(
    program
      .command('trigger')
      .description("start (on, the default) or stop (off) an automation through the daemon's command topic")
      .argument('<automation>', 'the automation name, as in its YAML file')
      .argument('[on|off]', 'on starts it, off stops it', 'on'),
  )
    .addHelpText(
      'after',
      '\nExample:\n  $ genlock trigger alarm on --config config.yaml\n  $ genlock trigger party off',
    )
    .action(
      action('trigger', async (name: string, onOff: string, options: BrokerOptions) => {
        const payload = onOff.toUpperCase()
        if (payload !== 'ON' && payload !== 'OFF') throw new CliError(`'${onOff}' must be on or off`)
        const { client, url, baseTopic } = await connectToBroker(options)
        try {
          const state = await readDaemonState(client, baseTopic)
          if (!state.automations.some((automation) => automation.name === name)) {
            const known = state.automations.map((automation) => automation.name).join(', ')
            throw new CliError(
              known
                ? `unknown automation '${name}' (the daemon on ${url} has: ${known})`
                : `unknown automation '${name}': no automations are published under ${baseTopic}/automation on ${url} (is genlock run going?)`,
            )
          }
          const topic = `${baseTopic}/automation/${name}/set`
          await client.publish(topic, payload, { qos: 1 })
          process.stdout.write(`${name}: sent ${payload} to ${topic}\n`)
          if (state.status !== 'online')
            process.stderr.write(
              `note: the daemon is ${state.status ?? 'not seen'} on ${url}; the broker keeps the command for its session, and it runs when the daemon is back\n`,
            )
        } finally {
          await client.close()
        }
      }),
    )
}

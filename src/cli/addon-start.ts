import type { Command } from 'commander'
import { action } from './errors.js'

/**
 * `genlock addon-start`: the Home Assistant add-on's entry point (deploy/homeassistant/genlock/Dockerfile). Not
 * listed in `--help`: it only makes sense inside the add-on's container, where the Supervisor sets
 * SUPERVISOR_TOKEN and mounts /data and /config. `GENLOCK_SUPERVISOR_URL` points it at another Supervisor API
 * (the tests' stand-in); the default is http://supervisor.
 */
export function addAddonStartCommand(program: Command): void {
  program
    .command('addon-start', { hidden: true })
    .description('inside the Home Assistant add-on: ask the Supervisor for the MQTT broker, write the config, run')
    .option('--data-dir <dir>', "the add-on's private folder, with the Supervisor's options.json", '/data')
    .option('--config-dir <dir>', "the add-on's config folder, with devices/ and automations/", '/config')
    .option('--seed-dir <dir>', 'example devices/ and automations/ copied into the config folder on the first start')
    .option('--user <name>', 'started as root, run the daemon as this user')
    .addHelpText(
      'after',
      '\nExample:\n  $ genlock addon-start --data-dir /data --config-dir /config --seed-dir /opt/genlock/seed --user node',
    )
    .action(
      action(
        'addon-start',
        async (options: { dataDir: string; configDir: string; seedDir?: string; user?: string }) => {
          // Loaded on use: other commands (and --help) start without the add-on's and the daemon's code.
          const { addonStart } = await import('./addon/start.js')
          await addonStart(options)
        },
      ),
    )
}

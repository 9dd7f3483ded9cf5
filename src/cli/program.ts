import { readFileSync } from 'node:fs'
import { Command, Option } from 'commander'
import { addHealthCommand } from './health.js'
import { addRunCommand } from './run-daemon.js'
import { addStatusCommand } from './status.js'
import { addTriggerCommand } from './trigger.js'
import { addTraceCommand } from './trace.js'
import { addValidateCommand } from './validate.js'
import { addSimulateCommand } from './simulate/command.js'
import { addSimCommand } from './sim.js'
import { addHuePairCommand } from './hue-pair.js'
import { addDiscoverCommand } from './discover.js'
import { addHashPasswordCommand } from './hash-password.js'
import { addAddonStartCommand } from './addon-start.js'

/** The package version, read from package.json (two folders up from both src/cli and dist/cli). */
function version(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8')
  return (JSON.parse(text) as { version: string }).version
}

/** The `genlock` command line: one file per command, wired here. */
export function createProgram(): Command {
  const program = new Command('genlock')
    .description('smart-bulb automations as generator transactions under priority locks')
    .version(version())
    .addOption(
      new Option('--log-level <level>', 'override log.level from the config file').choices([
        'fatal',
        'error',
        'warn',
        'info',
        'debug',
        'trace',
        'silent',
      ]),
    )
  addRunCommand(program)
  addValidateCommand(program)
  addHealthCommand(program)
  addTriggerCommand(program)
  addStatusCommand(program)
  addTraceCommand(program)
  addSimulateCommand(program)
  addSimCommand(program)
  addHuePairCommand(program)
  addDiscoverCommand(program)
  addHashPasswordCommand(program)
  addAddonStartCommand(program)
  return program
}

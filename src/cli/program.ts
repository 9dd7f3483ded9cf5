import { readFileSync } from 'node:fs'
import { Command, Option } from 'commander'
type AddCommand = (program: Command) => void

/**
 * Each command's module by the name typed after `genlock`, in the order `--help` lists them. Only the command that
 * runs is loaded: the others bring the Hue and Kasa clients, the terminal renderer, discovery and the add-on code,
 * which `genlock run` on a Pi should not pay for at every start.
 */
const COMMANDS: Readonly<Record<string, () => Promise<AddCommand>>> = {
  run: async () => (await import('./run-daemon.js')).addRunCommand,
  validate: async () => (await import('./validate.js')).addValidateCommand,
  health: async () => (await import('./health.js')).addHealthCommand,
  trigger: async () => (await import('./trigger.js')).addTriggerCommand,
  status: async () => (await import('./status.js')).addStatusCommand,
  simulate: async () => (await import('./simulate/command.js')).addSimulateCommand,
  sim: async () => (await import('./sim.js')).addSimCommand,
  hue: async () => (await import('./hue-pair.js')).addHuePairCommand,
  discover: async () => (await import('./discover.js')).addDiscoverCommand,
  'hash-password': async () => (await import('./hash-password.js')).addHashPasswordCommand,
  'addon-start': async () => (await import('./addon-start.js')).addAddonStartCommand,
}

/** The command named on the command line (`genlock --log-level debug run …` → `run`), if any. */
function commandName(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--log-level') i++
    else if (!arg.startsWith('-')) return arg
  }
  return undefined
}

/** The package version, read from package.json (two folders up from both src/cli and dist/cli). */
function version(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8')
  return (JSON.parse(text) as { version: string }).version
}

/**
 * The `genlock` command line: one file per command, wired here. Given `argv`, only the command it names is loaded;
 * without one (or with one we do not know, so commander can suggest the nearest), all of them are.
 */
export async function createProgram(argv: readonly string[] = []): Promise<Command> {
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
  const named = commandName(argv)
  const versionOnly = named === undefined && argv.some((arg) => arg === '-V' || arg === '--version')
  const wanted = versionOnly
    ? []
    : named !== undefined && named in COMMANDS
      ? [COMMANDS[named]!]
      : Object.values(COMMANDS)
  for (const add of await Promise.all(wanted.map((load) => load()))) add(program)
  return program
}

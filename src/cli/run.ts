import type { Command } from 'commander'
import { formatProblem } from '../config/problems.js'
import { runDaemon } from '../daemon.js'

/** `genlock run --config <file>`: the daemon, until SIGTERM or SIGINT. */
export function addRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the daemon: connect to MQTT, drive the devices, run the automations')
    .option('-c, --config <file>', 'the config file', 'config.yaml')
    .action(async (options: { config: string }) => {
      const { logLevel } = program.opts<{ logLevel?: string }>()
      const outcome = await runDaemon(options.config, { logLevel })
      if (outcome.problems.length > 0) {
        for (const problem of outcome.problems) process.stderr.write(`${formatProblem(problem)}\n`)
        process.exitCode = 1
      }
    })
}

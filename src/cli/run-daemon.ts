import type { Command } from 'commander'
import { formatProblem } from '../config/problems.js'

/** `genlock run --config <file>`: the daemon, until SIGTERM or SIGINT. */
export function addRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the daemon: connect to MQTT, drive the devices, run the automations')
    .option('-c, --config <file>', 'the config file', 'config.yaml')
    .action(async (options: { config: string }) => {
      const { logLevel } = program.opts<{ logLevel?: string }>()
      let outcome
      try {
        // Loaded on use: other commands (and --help) start without the daemon's dependencies.
        const { runDaemon } = await import('../daemon.js')
        outcome = await runDaemon(options.config, { logLevel })
      } catch (error) {
        process.stderr.write(`genlock could not start: ${(error as Error).message}\n`)
        process.exit(1)
      }
      if (outcome.problems.length > 0) {
        for (const problem of outcome.problems) process.stderr.write(`${formatProblem(problem)}\n`)
        process.exitCode = 1
      }
    })
}

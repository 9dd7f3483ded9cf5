import type { Command } from 'commander'
import { checkHealth, describeDaemonHealth } from '../health.js'

/**
 * `genlock health --config <file>`: is the daemon that config describes up? Prints one line per check and exits
 * with `HealthExitCode`: 0 healthy, 1 config missing or invalid, 2 broker unreachable, 4 daemon not online
 * there, 5 lock backend unreachable.
 */
export function addHealthCommand(program: Command): void {
  program
    .command('health')
    .description(
      'check a running daemon: broker reachable, daemon online there, lock backend answering, and print its own ' +
        'report (bulbs reachable, config problems) ' +
        '(exit 0 healthy, 1 config missing or invalid, 2 broker unreachable, 4 daemon not online, ' +
        '5 lock backend unreachable)',
    )
    .option('-c, --config <file>', 'the config file the daemon runs with', 'config.yaml')
    .option('-t, --timeout <ms>', 'how long to wait for each answer', parseTimeout, 3000)
    .option('--json', 'print the report as one JSON object')
    .action(async (options: { config: string; timeout: number; json?: boolean }) => {
      const report = await checkHealth(options.config, { timeoutMs: options.timeout })
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`)
      } else {
        for (const check of report.checks) {
          const [first, ...rest] = check.detail.split('\n')
          process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'} ${check.name.padEnd(6)} ${first}\n`)
          for (const line of rest) process.stdout.write(`            ${line}\n`)
        }
        if (report.daemon)
          for (const line of describeDaemonHealth(report.daemon)) process.stdout.write(`     ${line}\n`)
      }
      process.exitCode = report.exitCode
    })
}

function parseTimeout(value: string): number {
  const ms = Number(value)
  if (!Number.isInteger(ms) || ms <= 0)
    throw new Error(`--timeout must be a positive whole number of ms, not '${value}'`)
  return ms
}

import type { Command } from 'commander'
import { formatProblem } from '../config/problems.js'

/**
 * `genlock validate --config <file>`: checks the config, device and automation files without starting anything.
 * Prints every problem (file:line:col field: message) and exits 1, or prints a one-line summary and exits 0.
 */
export function addValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check config.yaml, devices/ and automations/ without running anything')
    .option('-c, --config <file>', 'the config file', 'config.yaml')
    .action(async (options: { config: string }) => {
      const { checkSetup } = await import('../setup/index.js')
      const setup = checkSetup(options.config)
      for (const warning of setup.warnings) process.stderr.write(`warning: ${formatProblem(warning)}\n`)
      if (setup.problems.length > 0) {
        for (const problem of setup.problems) process.stderr.write(`${formatProblem(problem)}\n`)
        const count = setup.problems.length
        process.stderr.write(`${count} problem${count === 1 ? '' : 's'} found\n`)
        process.exitCode = 1
        return
      }
      const config = setup.config!
      const broker = config.mqtt.embedded
        ? `embedded broker on ${config.mqtt.host}:${config.mqtt.port}`
        : `broker ${new URL(config.mqtt.url).host}`
      process.stdout.write(
        `${options.config}: OK — ${setup.devices.length} devices, ${setup.automations.length} automations, ` +
          `${broker}, ${config.locks.backend} locks` +
          `${setup.warnings.length > 0 ? `; ${setup.warnings.length} warning${setup.warnings.length === 1 ? '' : 's'}` : ''}\n`,
      )
    })
}

import type { Command } from 'commander'
import { ConfigError, formatProblem, type ConfigProblem } from '../config/problems.js'
import type { Daemon, DaemonOptions } from '../daemon/index.js'
import { saveCompileCache } from './compile-cache.js'
import { favourMemoryFromNowOn } from './favour-memory.js'

/**
 * How long after ready the compiled code is saved for the next start: by then the first triggers have compiled
 * their paths too, and ready itself is not delayed by the write.
 */
const COMPILE_CACHE_SAVE_DELAY_MS = 10_000

/** How long SIGTERM/SIGINT may take before the process exits anyway (systemd and Docker give 5 s before SIGKILL). */
const SHUTDOWN_DEADLINE_MS = 4500

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

/**
 * Starts the daemon and stops it on SIGTERM/SIGINT, exiting 0 within 5 s. Resolves with the config file's problems
 * (and starts nothing) when the config file itself is broken.
 */
export async function runDaemon(
  configFile: string,
  options: DaemonOptions,
): Promise<{ problems: readonly ConfigProblem[] }> {
  let daemon: Daemon | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    const running = daemon
    if (!running) {
      // Still starting (a broker that does not answer keeps it there): nothing runs yet, so just leave.
      // The broker sends our `offline` will when the socket drops.
      process.stderr.write(`genlock: ${signal} while starting; exiting\n`)
      process.exit(0)
    }
    running.logger.info({ signal }, 'signal received')
    const deadline = setTimeout(() => {
      running.logger.warn({ ms: SHUTDOWN_DEADLINE_MS }, 'shutdown took too long; exiting anyway')
      process.exit(0)
    }, SHUTDOWN_DEADLINE_MS)
    deadline.unref()
    void running.stop().then(
      () => process.exit(0),
      (error: Error) => {
        running.logger.error({ err: error.message }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', onSignal)
  process.once('SIGINT', onSignal)
  try {
    // Loaded on use: other commands (and --help) start without the daemon's dependencies.
    const { Daemon } = await import('../daemon/index.js')
    daemon = await Daemon.start(configFile, options)
    favourMemoryFromNowOn()
    setTimeout(saveCompileCache, COMPILE_CACHE_SAVE_DELAY_MS).unref()
  } catch (error) {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
    if (error instanceof ConfigError) return { problems: error.problems }
    throw error
  }
  return { problems: [] }
}

import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { loadConfig, type GenlockConfig } from '../config/config.js'
import { ConfigError, formatProblem } from '../config/problems.js'

/**
 * The exit codes every genlock command uses (documented in the README):
 * 0 done; 1 bad input (unknown automation, bad argument, config missing or invalid); 2 something could not be
 * reached (MQTT broker, Hue bridge, a port already in use); 3 gave up waiting (the Hue link button was not pressed).
 * Commander's own errors (unknown command or option) exit 1.
 */
export const EXIT = { ok: 0, badInput: 1, unreachable: 2, timedOut: 3 } as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** An error a command reports as one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError'

  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.badInput,
  ) {
    super(message)
  }
}

/**
 * Wraps a command's action: a CliError (or any error) becomes `genlock <command>: <message>` on stderr and the
 * command's exit code, instead of a stack trace.
 */
export function action<A extends unknown[]>(
  command: string,
  run: (...args: A) => Promise<void> | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await run(...args)
    } catch (error) {
      const code = error instanceof CliError ? error.exitCode : EXIT.badInput
      const message = error instanceof Error ? error.message : String(error)
      process.stderr.write(`genlock ${command}: ${message}\n`)
      process.exit(code)
    }
  }
}

/** Throws a CliError saying what to do when the config file `file` does not exist. */
export function requireConfigFile(file: string): void {
  const path = resolve(file)
  if (!existsSync(path)) throw new CliError(`config file ${path} not found (pass --config <file>)`)
}

/** Loads `file`, turning a missing file and every config problem into CliErrors that say what to do. */
export function loadConfigOrFail(file: string): GenlockConfig {
  requireConfigFile(file)
  const path = resolve(file)
  try {
    return loadConfig(path)
  } catch (error) {
    if (error instanceof ConfigError) {
      const first = error.problems[0]
      const more = error.problems.length > 1 ? ` (and ${error.problems.length - 1} more: run genlock validate)` : ''
      throw new CliError(`${first ? formatProblem(first) : error.message}${more}`)
    }
    throw error
  }
}

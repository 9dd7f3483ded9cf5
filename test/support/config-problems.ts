import { ConfigError } from '../../src/config/problems.js'

/** The lines of the ConfigError `run` throws (file:line:col field: message); fails if it throws none. */
export function problemsOf(run: () => unknown): string[] {
  try {
    run()
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n')
    throw error
  }
  throw new Error('expected a ConfigError')
}

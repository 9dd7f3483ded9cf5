import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { dirname } from 'node:path'
import type { InstalledPackage } from './installed-package.js'

/**
 * The environment a user's shell gives the installed `genlock`: this test run's Node first on PATH (the bin's
 * `#!/usr/bin/env node` picks it), and nothing of vitest's: no NODE_OPTIONS (so no TypeScript loader), no
 * NODE_ENV=test, no VITEST_* variables.
 */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` }
  for (const name of Object.keys(env)) {
    if (name === 'NODE_OPTIONS' || name === 'NODE_ENV' || name.startsWith('VITEST') || name === 'TSX_TSCONFIG_PATH')
      delete env[name]
  }
  return { ...env, NO_COLOR: '1', ...extra }
}

/** How a finished command ended. */
export interface Finished {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the installed `genlock <args>` to its end, in `cwd`. */
export function runGenlock(
  installed: InstalledPackage,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<Finished> {
  return new Promise((resolve) => {
    execFile(installed.bin, args, { cwd: options.cwd, env: userEnv(options.env) }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    )
  })
}

/** One JSON log line of the daemon. */
export interface LogEntry {
  readonly level: number
  readonly msg: string
  readonly [field: string]: unknown
}

/**
 * A long-running installed `genlock <args>` (the daemon, a simulator): a test waits for the output it expects as it
 * arrives, types into its stdin, and stops it as Ctrl-C or systemd would.
 */
export class UserProcess {
  stdout = ''
  stderr = ''
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  private readonly waiters = new Set<() => void>()

  private constructor(
    readonly child: ChildProcess,
    readonly args: readonly string[],
  ) {
    child.stdout?.on('data', (chunk: Buffer) => this.append('stdout', chunk))
    child.stderr?.on('data', (chunk: Buffer) => this.append('stderr', chunk))
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        resolve({ code, signal })
        this.changed()
      }),
    )
  }

  static start(
    installed: InstalledPackage,
    args: readonly string[],
    options: { cwd: string; env?: NodeJS.ProcessEnv },
  ): UserProcess {
    const child = spawn(installed.bin, args, {
      cwd: options.cwd,
      env: userEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    return new UserProcess(child, args)
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** The first match of `pattern` in the stream after character `from`, as soon as it has been written. */
  waitFor(pattern: RegExp, options: { from?: number; stream?: 'stdout' | 'stderr' } = {}): Promise<RegExpExecArray> {
    const stream = options.stream ?? 'stdout'
    return this.until(() => pattern.exec(this[stream].slice(options.from ?? 0)) ?? undefined, `${stream} ${pattern}`)
  }

  /** The daemon's JSON log lines so far (pino writes JSON lines when stdout is not a terminal). */
  get logs(): LogEntry[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogEntry)
  }

  /** The first JSON log line from index `from` on that `match` accepts, as soon as it has been written. */
  waitForLog(match: (entry: LogEntry) => boolean, from = 0): Promise<LogEntry> {
    return this.until(() => this.logs.slice(from).find(match), 'a log line')
  }

  /** Writes `text` to the process's stdin, as a user typing into its terminal. */
  type(text: string): void {
    this.child.stdin?.write(text)
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal)
    return this.exited
  }

  /** Resolves with `found()`'s first defined value, checked on every output; rejects if the process ends first. */
  private until<T>(found: () => T | undefined, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = found()
        if (value !== undefined) {
          this.waiters.delete(check)
          resolve(value)
        } else if (!this.running) {
          this.waiters.delete(check)
          reject(
            new Error(`genlock ${this.args.join(' ')} ended before writing ${what}:\n${this.stdout}\n${this.stderr}`),
          )
        }
      }
      this.waiters.add(check)
      check()
    })
  }

  private append(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    this[stream] += chunk.toString()
    this.changed()
  }

  private changed(): void {
    for (const waiter of [...this.waiters]) waiter()
  }
}

/** A device file the CLI printed: `# devices/<id>.yaml` and the YAML up to the next blank line. */
export interface PrintedDeviceFile {
  readonly name: string
  readonly text: string
}

/** Every device file in `output`, in order, as the CLI prints them for the user to save. */
export function printedDeviceFiles(output: string): PrintedDeviceFile[] {
  return output
    .split(/\n\s*\n/)
    .map((chunk) => chunk.trim())
    .flatMap((chunk) => {
      const name = /^# devices\/([\w.-]+\.yaml)/.exec(chunk)?.[1]
      return name ? [{ name, text: `${chunk}\n` }] : []
    })
}

/** `export NAME=value` lines the CLI printed (secrets it tells the user to put into the environment). */
export function printedExports(output: string): Record<string, string> {
  return Object.fromEntries([...output.matchAll(/^\s*export (\w+)=(\S+)\s*$/gm)].map((match) => [match[1]!, match[2]!]))
}

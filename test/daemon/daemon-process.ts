import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const cli = join(import.meta.dirname, '../../src/cli/index.ts')

export interface LogEntry {
  readonly level: number
  readonly msg: string
  readonly [field: string]: unknown
}

/**
 * `genlock run` as a real process (from source, through tsx), with its JSON log lines collected so a test can
 * wait for the line it expects.
 */
export class DaemonProcess {
  readonly logs: LogEntry[] = []
  stderr = ''
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  private waiters: { match: (entry: LogEntry) => boolean; resolve: (entry: LogEntry) => void }[] = []

  private constructor(readonly child: ChildProcess) {
    let buffered = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) if (line.trim()) this.receive(line)
    })
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()))
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  }

  static start(configFile: string, ...extra: string[]): DaemonProcess {
    return DaemonProcess.spawn(process.execPath, ['--import', 'tsx', cli, 'run', '--config', configFile, ...extra])
  }

  /** Any long-running command that logs JSON lines (other lines are kept as `{ level: 30, msg: line }`). */
  static spawn(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): DaemonProcess {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
    return new DaemonProcess(child)
  }

  /** The first log line (already written or still to come) that `match` accepts; rejects if the daemon exits first. */
  waitForLog(match: (entry: LogEntry) => boolean, from = 0): Promise<LogEntry> {
    const earlier = this.logs.slice(from).find(match)
    if (earlier) return Promise.resolve(earlier)
    return new Promise((resolve, reject) => {
      this.waiters.push({ match, resolve })
      void this.exited.then(({ code }) =>
        reject(new Error(`daemon exited (${code}) before the expected log line:\n${this.stderr}`)),
      )
    })
  }

  /** Resolves once the daemon has logged `genlock ready`. */
  ready(): Promise<LogEntry> {
    return this.waitForLog((entry) => entry.msg === 'genlock ready')
  }

  get mark(): number {
    return this.logs.length
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal)
    return this.exited
  }

  private receive(line: string): void {
    let entry: LogEntry
    try {
      entry = JSON.parse(line) as LogEntry
    } catch {
      entry = { level: 30, msg: line }
    }
    this.logs.push(entry)
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.match(entry)) return true
      waiter.resolve(entry)
      return false
    })
  }
}

/**
 * `genlock run` of `configFile` from source with `probe` preloaded (`node --import`), stopped once ready: what the
 * probe wrote, as the process exited, to the file named by its environment variable `outVariable`.
 */
export async function runWithProbe(configFile: string, probe: string, outVariable: string): Promise<string> {
  const out = join(mkdtempSync(join(tmpdir(), 'genlock-probe-')), 'out')
  const daemon = DaemonProcess.spawn(
    process.execPath,
    ['--import', 'tsx', '--import', probe, cli, 'run', '--config', configFile],
    { [outVariable]: out },
  )
  try {
    await daemon.ready()
  } finally {
    await daemon.stop()
  }
  return readFileSync(out, 'utf8')
}

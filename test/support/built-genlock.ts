import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'

const repo = join(import.meta.dirname, '../..')
/** Inside the repo's node_modules, so the build resolves the repo's production dependencies as an install would. */
const cache = join(repo, 'node_modules/.cache/genlock-built')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  )
}

/** A hash of everything `npm run build` reads, so a build is reused exactly while the sources are unchanged. */
function sourceHash(): string {
  const hash = createHash('sha256')
  for (const file of [
    ...sourceFiles(join(repo, 'src')).sort(),
    'tsconfig.json',
    'tsconfig.build.json',
    'package.json',
  ]) {
    const path = file.startsWith('/') ? file : join(repo, file)
    hash.update(path).update(readFileSync(path))
  }
  return hash.digest('hex').slice(0, 16)
}

let built: Promise<string> | undefined

/**
 * `npm run build` (tsc -p tsconfig.build.json) of the current sources into a folder of its own, once per source
 * state and shared between test files: a mkdir lock lets one worker build while the others wait. Resolves with the
 * path of the built `dist/cli/index.js`, which tests run with plain `node` (no TypeScript loader).
 */
export function builtCli(): Promise<string> {
  built ??= build()
  return built
}

async function build(): Promise<string> {
  const target = join(cache, sourceHash())
  const cli = join(target, 'dist/cli/index.js')
  const lock = `${target}.lock`
  mkdirSync(cache, { recursive: true })
  for (;;) {
    if (existsSync(cli)) return cli
    try {
      mkdirSync(lock)
      break
    } catch {
      // Another worker is building; a lock older than 5 minutes belongs to a worker that died.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 300_000) rmSync(lock, { force: true })
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
  try {
    if (existsSync(cli)) return cli
    const staging = `${target}.staging`
    rmSync(staging, { recursive: true, force: true })
    await promisify(execFile)(
      process.execPath,
      [
        join(repo, 'node_modules/typescript/bin/tsc'),
        '-p',
        join(repo, 'tsconfig.build.json'),
        '--outDir',
        join(staging, 'dist'),
      ],
      { cwd: repo },
    )
    // dist/cli reads ../../package.json for --version, as in the installed package.
    cpSync(join(repo, 'package.json'), join(staging, 'package.json'))
    renameSync(staging, target)
    // Builds of earlier source states are never used again.
    for (const entry of readdirSync(cache)) {
      if (/^[0-9a-f]{16}$/.test(entry) && join(cache, entry) !== target)
        rmSync(join(cache, entry), { recursive: true, force: true })
    }
    return cli
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

export interface Finished {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the built `genlock <args>` with plain node to its end. */
export async function runBuilt(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<Finished> {
  const cli = await builtCli()
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdin.end(options.input ?? '')
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

export interface LogEntry {
  readonly level: number
  readonly msg: string
  readonly [field: string]: unknown
}

/** The built `genlock run` as a process, with its JSON log lines collected for tests to wait on. */
export class BuiltDaemon {
  readonly logs: LogEntry[] = []
  readonly lines: string[] = []
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

  /** Starts `node dist/cli/index.js run --config <configFile>` (stdout is no terminal, so it logs JSON lines). */
  static start(configFile: string, env: NodeJS.ProcessEnv = {}): Promise<BuiltDaemon> {
    return BuiltDaemon.spawn(['run', '--config', configFile], env)
  }

  /** Starts any long-running built `genlock <args>`; lines that are not JSON are kept as `{ msg: line }`. */
  static async spawn(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<BuiltDaemon> {
    const cli = await builtCli()
    const child = spawn(process.execPath, [cli, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', ...env },
    })
    return new BuiltDaemon(child)
  }

  get pid(): number {
    return this.child.pid!
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
    this.lines.push(line)
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

/** Resident memory of process `pid` in bytes, from /proc (Linux). */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`)
  return Number(kb) * 1024
}

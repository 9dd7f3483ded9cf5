import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { DaemonProcess } from '../daemon/daemon-process.js'

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

/** The built `genlock run --config <configFile>` as a process (stdout is no terminal: it logs JSON lines). */
export async function startBuiltDaemon(configFile: string, env: NodeJS.ProcessEnv = {}): Promise<DaemonProcess> {
  return DaemonProcess.spawn(process.execPath, [await builtCli(), 'run', '--config', configFile], env)
}

/** Any long-running built `genlock <args>` (simulate, sim) as a process whose output lines a test waits for. */
export async function spawnBuilt(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<DaemonProcess> {
  return DaemonProcess.spawn(process.execPath, [await builtCli(), ...args], { NO_COLOR: '1', ...env })
}

/** Resident memory of process `pid` in bytes, from /proc (Linux). */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`)
  return Number(kb) * 1024
}

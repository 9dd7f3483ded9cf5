import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  watch,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The repository root. */
export const REPO = join(import.meta.dirname, '../../..')

/** genlock as a user installed it: `npm pack`, then the tarball installed with production dependencies only. */
export interface InstalledPackage {
  /** The folder it was installed into (a project folder with `node_modules/`), outside the repository. */
  readonly prefix: string
  /** `<prefix>/node_modules/genlock`. */
  readonly packageDir: string
  /** `<prefix>/node_modules/.bin/genlock`, the link npm made to the package's `bin`. */
  readonly bin: string
  /** The tarball `npm pack` wrote. */
  readonly tarball: string
}

/**
 * Everything the tarball and its install are made from: the sources, the build settings, the manifest and the
 * README. Hashing these instead of the tarball lets a second test file (or run) skip the 15 s build as well.
 */
function inputsHash(): string {
  const hash = createHash('sha256')
  const add = (path: string) => {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) add(join(path, name))
      return
    }
    hash.update(relative(REPO, path)).update('\0').update(readFileSync(path)).update('\0')
  }
  for (const name of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'src'])
    add(join(REPO, name))
  return hash.digest('hex').slice(0, 16)
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Runs `work` while holding a lock folder (mkdir is atomic), so test files in parallel workers build and install
 * once. A waiter wakes when the folder goes (fs.watch on its parent); a holder that died is detected by its pid.
 */
async function withLock<T>(lock: string, work: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      mkdirSync(lock)
      writeFileSync(join(lock, 'pid'), String(process.pid))
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    await new Promise<void>((resolve) => {
      const watcher = watch(dirname(lock), () => check())
      // A holder killed outright leaves its folder behind: look at its pid once a second while waiting.
      const timer = setInterval(() => check(), 1000)
      const check = () => {
        const pid = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : Number.NaN)
        const stale = Number.isInteger(pid) && pid > 0 && !isAlive(pid)
        if (stale) rmSync(lock, { recursive: true, force: true })
        if (stale || !existsSync(lock)) {
          watcher.close()
          clearInterval(timer)
          resolve()
        }
      }
      check()
    })
  }
  try {
    return await work()
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

/**
 * Removes installs of earlier inputs (~50 MB each) that no run has used for two hours: every source edit makes a new
 * one, and a run touches the folder it uses when it starts, so one in use is never that old.
 */
function removeOldInstalls(cache: string, keep: string): void {
  for (const name of readdirSync(cache)) {
    const path = join(cache, name)
    if (path === keep || name.endsWith('.lock')) continue
    const usedAt = statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now() // another run removed it
    if (Date.now() - usedAt > 2 * 3600_000) rmSync(path, { recursive: true, force: true })
  }
}

async function packAndInstall(target: string): Promise<void> {
  const staging = `${target}.partial-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(staging, { recursive: true })
  // `npm pack` runs the `prepack` script: a clean build into dist/, so what is packed is what src/ says now.
  const packed = await run('npm', ['pack', '--json', '--pack-destination', staging], {
    cwd: REPO,
    maxBuffer: 16 * 1024 * 1024,
  })
  // The build's own output comes first; npm's JSON report is the rest.
  const report = packed.stdout.slice(packed.stdout.search(/^\[/m))
  const [{ filename }] = JSON.parse(report) as [{ filename: string }]
  // A project folder of its own, as a user's: `npm install <tarball>` resolves genlock's dependency ranges afresh
  // from the registry (npm's cache first), exactly as `npm install genlock` would; devDependencies never come.
  writeFileSync(join(staging, 'package.json'), JSON.stringify({ name: 'genlock-e2e-user', private: true }))
  await run(
    'npm',
    ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', `./${filename}`],
    { cwd: staging, maxBuffer: 16 * 1024 * 1024 },
  )
  renameSync(staging, target)
}

let installing: Promise<InstalledPackage> | undefined

/**
 * The package, packed and installed once per change of its inputs, in a folder under the system temp folder: never
 * below the repository, whose node_modules (devDependencies included) Node would otherwise find by walking up.
 */
export function installedPackage(): Promise<InstalledPackage> {
  installing ??= (async () => {
    const cache = join(tmpdir(), 'genlock-e2e')
    mkdirSync(cache, { recursive: true })
    const prefix = join(cache, inputsHash())
    await withLock(`${prefix}.lock`, async () => {
      if (!existsSync(prefix)) await packAndInstall(prefix)
    })
    const now = new Date()
    utimesSync(prefix, now, now) // in use: not old
    removeOldInstalls(cache, prefix)
    const tarball = readdirSync(prefix).find((name) => name.endsWith('.tgz'))
    return {
      prefix,
      packageDir: join(prefix, 'node_modules/genlock'),
      bin: join(prefix, 'node_modules/.bin/genlock'),
      tarball: join(prefix, tarball ?? 'missing.tgz'),
    }
  })()
  return installing
}

import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Observer } from '../mqtt/observer.js'
import { freePort } from '../support/services.js'
import { commandWords, mapPaths, replayDockerfile, type ReplayedStage } from './dockerfile.js'

const repo = join(import.meta.dirname, '../..')
const BASE_IMAGE = 'node:26-bookworm-slim'

let workspace: string
let stages: ReplayedStage[]
let runtime: ReplayedStage

beforeAll(async () => {
  workspace = mkdtempSync(join(tmpdir(), 'genlock-image-'))
  // npm ci twice (all, then production only) and one TypeScript build: the slow part, done once.
  stages = await replayDockerfile(join(repo, 'Dockerfile'), repo, workspace)
  runtime = stages.at(-1)!
}, 420_000)

// Two node_modules trees: removing them took over 30 s (the default hook timeout) on a loaded 2-core machine.
afterAll(async () => {
  if (workspace) await rm(workspace, { recursive: true, force: true })
}, 180_000)

/** The value(s) the runtime stage gave an instruction a container engine reads (USER, HEALTHCHECK, ...). */
function setting(keyword: string): string {
  const values = runtime.settings.get(keyword) ?? []
  expect(values, `${keyword} in the runtime stage`).toHaveLength(1)
  return values[0]!
}

/** The runtime stage's environment, with its paths moved into the replay folder, on top of this machine's. */
function imageEnv(): NodeJS.ProcessEnv {
  const mapped = Object.entries(runtime.env).map(([name, value]) => [name, mapPaths(runtime, value)])
  return { ...process.env, ...Object.fromEntries(mapped) }
}

function runHealthcheck(): Promise<{ code: number | null; output: string }> {
  const command = setting('HEALTHCHECK').replace(/^(--\S+\s+)*CMD\s+/, '')
  const [file = '', ...args] = commandWords(mapPaths(runtime, command))
  const child = spawn(file, args, { cwd: mapPaths(runtime, runtime.workdir), env: imageEnv() })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })))
}

/** Resolves with the first JSON log line `match` accepts; rejects if the process exits first. */
function waitForLog(child: ChildProcess, match: (entry: { msg?: string }) => boolean): Promise<void> {
  let buffered = ''
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        if (line.startsWith('{') && match(JSON.parse(line) as { msg?: string })) resolve()
      }
    })
    child.once('exit', (code) => reject(new Error(`daemon exited (${code}) before it was ready:\n${stderr}`)))
  })
}

/**
 * Names the step a test is at; `stuck` rejects once `limitMs` have passed, with the step and the last lines `child`
 * wrote. `stop` ends the watch.
 */
function stepWatch(
  child: ChildProcess,
  limitMs: number,
): { step(name: string): void; stop(): void; stuck: Promise<never> } {
  let output = ''
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000))
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  let current = 'starting'
  let timer: NodeJS.Timeout | undefined
  const stuck = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`still ${current} after ${limitMs} ms; the daemon's last output:\n${output}`)),
      limitMs,
    )
  })
  return { stuck, stop: () => clearTimeout(timer), step: (name) => (current = name) }
}

describe('the container image, built from the Dockerfile without Docker', () => {
  it(`builds and runs on ${BASE_IMAGE}, which exists for linux/arm64 and linux/amd64`, () => {
    expect(stages.map((stage) => stage.from)).toEqual([BASE_IMAGE, BASE_IMAGE])
  })

  it('holds the compiled daemon with production dependencies only: no dev dependency, no sources', () => {
    const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean }>
    }
    const app = join(runtime.root, 'app')
    const packages = Object.entries(lock.packages).filter(([path]) => path.startsWith('node_modules/'))
    const present = (path: string) => existsSync(join(app, path, 'package.json'))
    const devOnly = packages.filter(([, entry]) => entry.dev).map(([path]) => path)
    const production = packages.filter(([, entry]) => !entry.dev && !entry.optional).map(([path]) => path)
    expect(devOnly).toContain('node_modules/typescript')
    expect(devOnly.filter(present)).toEqual([])
    expect(production.filter((path) => !present(path))).toEqual([])
    expect(existsSync(join(app, 'dist/cli/index.js'))).toBe(true)
    for (const absent of ['src', 'test', 'deploy', 'dist/index.d.ts']) expect(existsSync(join(app, absent))).toBe(false)
  })

  it('runs as a non-root user with /config as its volume, SIGTERM as stop signal, a health check and OCI labels', () => {
    expect(setting('USER')).not.toMatch(/^(root|0)(:|$)/)
    expect(setting('VOLUME')).toBe('/config')
    expect(setting('STOPSIGNAL')).toBe('SIGTERM')
    expect(setting('HEALTHCHECK')).toMatch(/CMD genlock health --config \/config\/config\.yaml/)
    expect(setting('LABEL')).toMatch(/org\.opencontainers\.image\.title="genlock"/)
    expect(setting('LABEL')).toMatch(/org\.opencontainers\.image\.version=/)
  })

  it('starts the daemon from the image contents, is healthy, runs an automation and stops on the stop signal', async () => {
    const port = await freePort()
    const configFile = join(runtime.root, 'config/config.yaml')
    const config = readFileSync(configFile, 'utf8')
    expect(config).toMatch(/^ {2}port: 1883$/m)
    // The image's own config, on a port of its own so this test never collides with another.
    writeFileSync(configFile, config.replace(/^ {2}port: 1883$/m, `  port: ${port}`))

    const [file = '', ...args] = [setting('ENTRYPOINT'), setting('CMD')].flatMap((words) =>
      commandWords(words).map((word) => mapPaths(runtime, word)),
    )
    const daemon = spawn(file, args, { cwd: mapPaths(runtime, runtime.workdir), env: imageEnv() })
    const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)))
    // Once (in a clean-clone run on a loaded machine) this test used up its 60 s with nothing to show where: each step
    // is named, and at 50 s the test fails naming the step it is at, with the daemon's last output.
    const { step, stop, stuck } = stepWatch(daemon, 50_000)
    let observer: Observer | undefined
    const run = async () => {
      try {
        step('waiting for "genlock ready"')
        await waitForLog(daemon, (entry) => entry.msg === 'genlock ready')

        step('running the health check')
        const healthy = await runHealthcheck()
        expect(healthy.output).toMatch(/^ok +daemon +genlock\/status is online$/m)
        expect(healthy.code).toBe(0)

        step('connecting an observer to the embedded broker')
        observer = await Observer.connect(`mqtt://127.0.0.1:${port}`, ['genlock/automation/party'])
        step('waiting for the party automation to run')
        await observer.client.publishAsync('home/party', 'ON', { qos: 1 })
        await observer.waitForPayload('genlock/automation/party', (payload) => payload.includes('"state":"running"'))
      } finally {
        await observer?.client.endAsync()
        daemon.kill(setting('STOPSIGNAL') as NodeJS.Signals)
      }
      step('waiting for the daemon to exit on the stop signal')
      expect(await exited).toBe(0)
      step('running the health check once stopped')
      const stopped = await runHealthcheck()
      expect(stopped.code).toBe(1)
    }
    try {
      await Promise.race([run(), stuck])
    } finally {
      stop()
      if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL')
    }
  }, 60_000)
})

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

/** How long a server may take to exit after SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000

/**
 * A real server process (mosquitto, redis-server) on a port of its own, that a test can stop and start again
 * on the same port for fault tests. `start()` resolves when the server logs its ready line.
 */
export class ServiceProcess {
  private child: ChildProcess | undefined
  readonly dir: string

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly command: string,
    private readonly args: (dir: string) => string[],
    private readonly readyLine: RegExp,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `genlock-${name}-`))
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  async start(): Promise<void> {
    if (this.running) return
    const child = spawn(this.command, this.args(this.dir), { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    let output = ''
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString()
        if (this.readyLine.test(output)) {
          child.stdout?.off('data', onData)
          child.stderr?.off('data', onData)
          resolve()
        }
      }
      child.stdout?.on('data', onData)
      child.stderr?.on('data', onData)
      child.once('error', (err) =>
        reject(
          new Error(
            `${this.name}: cannot start '${this.command}' (${err.message}). ` +
              `Install it: sudo apt-get install -y mosquitto redis-server`,
          ),
        ),
      )
      child.once('exit', (code) =>
        reject(new Error(`${this.name} exited with ${code} before it was ready:\n${output}`)),
      )
    })
    // Keep draining the pipes so a chatty server never blocks on a full pipe.
    child.stdout?.resume()
    child.stderr?.resume()
  }

  /** Stops the server (SIGKILL after STOP_GRACE_MS if it does not go); `signal` SIGKILL simulates a crash. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child
    if (!child || !this.running) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill(signal)
    // A server that has not gone 10 s after SIGTERM is killed: seen once from mosquitto on a loaded machine, where
    // the suite's 30 s cleanup hook then failed a run whose tests had all passed.
    const killer = signal === 'SIGKILL' ? undefined : setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
    await exited
    clearTimeout(killer)
  }

  async restart(): Promise<void> {
    await this.stop()
    await this.start()
  }

  async dispose(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** A real mosquitto on a free port, run with the config file `lines(port, dir)` gives. */
async function startMosquittoWith(
  lines: (port: number, dir: string) => string[],
): Promise<ServiceProcess & { url: string }> {
  const port = await freePort()
  const service = new ServiceProcess(
    'mosquitto',
    port,
    'mosquitto',
    (dir) => {
      const conf = join(dir, 'mosquitto.conf')
      writeFileSync(conf, `${lines(port, dir).join('\n')}\n`)
      return ['-c', conf]
    },
    /mosquitto version .* running/,
  )
  await service.start()
  return Object.assign(service, { url: `mqtt://127.0.0.1:${port}` })
}

/** A real mosquitto on a free port; with `persistence`, sessions and queued QoS 1 messages survive a restart. */
export function startMosquitto(options: { persistence?: boolean } = {}): Promise<ServiceProcess & { url: string }> {
  return startMosquittoWith((port, dir) => [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    `persistence ${options.persistence ? 'true' : 'false'}`,
    `persistence_location ${dir}/`,
    // Started as root, mosquitto drops to user `mosquitto`, which cannot write into our 0700 temp dir:
    // persistence would silently save nothing and a restart would lose every session.
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
  ])
}

/**
 * A real mosquitto as most homes run it (the Debian package, the Home Assistant add-on): every setting at its
 * built-in default except the two a listener on a free port needs, `listener <port> 127.0.0.1` and
 * `allow_anonymous true` (mosquitto 2 refuses anonymous clients once a listener is configured). So Nagle's
 * algorithm stays on, persistence is off (a restart loses sessions and retained messages) and it logs to stderr.
 * `tcpNoDelay` adds `set_tcp_nodelay true`, for benchmarks that compare against the tuned broker.
 */
export function startDefaultMosquitto(
  options: { tcpNoDelay?: boolean } = {},
): Promise<ServiceProcess & { url: string }> {
  return startMosquittoWith((port) => [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    ...(options.tcpNoDelay ? ['set_tcp_nodelay true'] : []),
  ])
}

/** A real redis-server on a free port that keeps nothing on disk. */
export async function startRedis(): Promise<ServiceProcess & { url: string }> {
  const port = await freePort()
  const service = new ServiceProcess(
    'redis',
    port,
    'redis-server',
    (dir) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    /Ready to accept connections/,
  )
  await service.start()
  return Object.assign(service, { url: `redis://127.0.0.1:${port}` })
}

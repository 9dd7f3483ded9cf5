import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'

/** The CLI's entry point, run from source through tsx. */
export const CLI = join(import.meta.dirname, '../../../src/cli/index.ts')

/** The argv that runs `genlock <args>` from source. */
export function genlockArgv(...args: string[]): string[] {
  return [process.execPath, '--import', 'tsx', CLI, ...args]
}

export interface Finished {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `genlock <args>` to its end in its own process. */
export function genlock(...args: string[]): Promise<Finished> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      genlockArgv(...args).slice(1),
      { env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
  })
}

/**
 * A long-running `genlock <args>` (a simulator, `simulate --headless`, `hue pair`) whose output lines a test waits
 * for, and whose stdin it can type into.
 */
export class GenlockProcess {
  stdout = ''
  stderr = ''
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  private readonly waiters = new Set<() => void>()

  constructor(
    readonly child: ChildProcess,
    readonly args: readonly string[],
  ) {
    child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString()
      this.changed()
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString()
      this.changed()
    })
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        resolve({ code, signal })
        this.changed()
      }),
    )
  }

  static start(...args: string[]): GenlockProcess {
    const [node, ...argv] = genlockArgv(...args)
    const child = spawn(node!, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
    return new GenlockProcess(child, args)
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** Resolves with the first match of `pattern` in stdout after `from` (a character offset), as it arrives. */
  waitFor(pattern: RegExp, from = 0, stream: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(this[stream].slice(from))
        if (match) {
          this.waiters.delete(check)
          resolve(match)
        } else if (!this.running) {
          this.waiters.delete(check)
          reject(
            new Error(
              `genlock ${this.args.join(' ')} exited before printing ${pattern}:\n${this.stdout}\n${this.stderr}`,
            ),
          )
        }
      }
      this.waiters.add(check)
      check()
    })
  }

  type(text: string): void {
    this.child.stdin?.write(text)
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal)
    return this.exited
  }

  private changed(): void {
    for (const waiter of [...this.waiters]) waiter()
  }
}

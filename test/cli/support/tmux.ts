import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * A detached tmux session on a private server socket (so it never touches anyone's own tmux), running one command
 * in a real terminal of a fixed size.
 */
export class TmuxSession {
  private constructor(
    readonly socket: string,
    readonly name: string,
  ) {}

  static async start(
    command: readonly string[],
    options: { env?: Record<string, string>; width?: number; height?: number } = {},
  ): Promise<TmuxSession> {
    const socket = `genlock-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
    const session = new TmuxSession(socket, 'sim')
    const env = Object.entries(options.env ?? {}).flatMap(([key, value]) => ['-e', `${key}=${value}`])
    await run('tmux', [
      '-L',
      socket,
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-s',
      session.name,
      '-x',
      String(options.width ?? 120),
      '-y',
      String(options.height ?? 40),
      ...env,
      ...command,
    ])
    return session
  }

  /** The pane's text as it shows now (with `escapes`, including its colour codes). */
  async capture(escapes = false): Promise<string> {
    const { stdout } = await run('tmux', [
      '-L',
      this.socket,
      'capture-pane',
      '-p',
      ...(escapes ? ['-e'] : []),
      '-t',
      this.name,
    ])
    return stdout
  }

  /** Types `keys` literally into the pane. */
  async sendKeys(keys: string): Promise<void> {
    await run('tmux', ['-L', this.socket, 'send-keys', '-t', this.name, '-l', keys])
  }

  /** Whether the session (and so the command in it) is still there. */
  async alive(): Promise<boolean> {
    try {
      await run('tmux', ['-L', this.socket, 'has-session', '-t', this.name])
      return true
    } catch {
      return false
    }
  }

  /**
   * Resolves with the screen once `accept` takes it, re-reading the pane until `deadlineMs` has passed (the
   * screen changes when the program draws; tmux has no event to wait on). Rejects with the last screen otherwise.
   */
  async waitForScreen(accept: (screen: string) => boolean, deadlineMs = 15_000, escapes = false): Promise<string> {
    const end = Date.now() + deadlineMs
    let screen = ''
    while (Date.now() < end) {
      screen = await this.capture(escapes)
      if (accept(screen)) return screen
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`the screen never showed what was expected; last screen:\n${screen}`)
  }

  /** Resolves once the command has exited and tmux closed the session, or rejects after `deadlineMs`. */
  async waitForExit(deadlineMs = 10_000): Promise<void> {
    const end = Date.now() + deadlineMs
    while (Date.now() < end) {
      if (!(await this.alive())) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error('the program in tmux did not exit')
  }

  async kill(): Promise<void> {
    await run('tmux', ['-L', this.socket, 'kill-server']).catch(() => undefined)
  }
}

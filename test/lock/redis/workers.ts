import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { FromWorker, ToWorker } from './worker.js'

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))

/** One command as the shared bulb (this process) received it. */
export interface BulbCommand {
  readonly worker: string
  readonly tx: string
  readonly step: number
  readonly token: number
  readonly resource: string
}

/**
 * The bulb every worker drives, living in the test process: it logs commands in the order they arrive and
 * answers each at once, or, for a transaction the test holds, when the test lets it go.
 */
export class SharedBulb {
  readonly log: BulbCommand[] = []
  private readonly held = new Map<string, (() => void)[]>()

  /** Commands of transaction `tx` are answered only on `letGo(tx)`: it stays at that step meanwhile. */
  hold(tx: string): void {
    if (!this.held.has(tx)) this.held.set(tx, [])
  }

  letGo(tx: string): void {
    const answers = this.held.get(tx) ?? []
    this.held.delete(tx)
    answers.forEach((answer) => answer())
  }

  receive(command: BulbCommand, answer: () => void): void {
    this.log.push(command)
    const held = this.held.get(command.tx)
    if (held) held.push(answer)
    else answer()
  }

  /** The transactions and steps in the order the bulb saw them, e.g. `party:0`. */
  steps(): string[] {
    return this.log.map((command) => `${command.tx}:${command.step}`)
  }

  /** Commands sent under an older token than one the bulb had already seen: two holders interleaved. */
  staleCommands(): BulbCommand[] {
    const newest = new Map<string, number>()
    const stale: BulbCommand[] = []
    for (const command of this.log) {
      const seen = newest.get(command.resource) ?? 0
      if (command.token < seen) stale.push(command)
      else newest.set(command.resource, command.token)
    }
    return stale
  }
}

/** A worker process (worker.ts) with its own Redis client; every message it sends is kept and awaitable. */
export class Worker {
  readonly messages: FromWorker[] = []
  private readonly waiters: { match: (m: FromWorker) => boolean; resolve: (m: FromWorker) => void }[] = []
  readonly exited: Promise<void>

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    bulb: SharedBulb,
  ) {
    child.on('message', (message: FromWorker) => {
      if (message.type === 'command') {
        const { rid, tx, step, token, resource } = message
        bulb.receive({ worker: name, tx, step, token, resource }, () => this.send({ type: 'reply', rid }))
      }
      this.messages.push(message)
      for (const waiter of [...this.waiters]) {
        if (waiter.match(message)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1)
          waiter.resolve(message)
        }
      }
    })
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
  }

  static async start(
    name: string,
    bulb: SharedBulb,
    init: Omit<Extract<ToWorker, { type: 'init' }>, 'type'>,
  ): Promise<Worker> {
    const child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const worker = new Worker(name, child, bulb)
    worker.send({ type: 'init', ...init })
    await worker.next((m) => m.type === 'ready')
    return worker
  }

  send(message: ToWorker): void {
    if (this.child.connected) this.child.send(message)
  }

  run(tx: string, resource: string, priority: number, steps: number, deferredStep?: number): void {
    this.send({ type: 'run', tx, resource, priority, steps, ...(deferredStep !== undefined && { deferredStep }) })
  }

  /** The first message from now on that matches (or one already received, with `past`). */
  next<M extends FromWorker>(match: (m: FromWorker) => m is M, past?: boolean): Promise<M>
  next(match: (m: FromWorker) => boolean, past?: boolean): Promise<FromWorker>
  next(match: (m: FromWorker) => boolean, past = false): Promise<FromWorker> {
    const earlier = past ? this.messages.find(match) : undefined
    if (earlier) return Promise.resolve(earlier)
    return new Promise((resolve, reject) => {
      this.waiters.push({ match, resolve })
      void this.exited.then(() => reject(new Error(`worker ${this.name} exited while a test waited for a message`)))
    })
  }

  /** Resolves when transaction `tx` has completed (rejects if it failed). */
  async done(tx: string): Promise<void> {
    const end = await this.next((m) => (m.type === 'done' || m.type === 'failed') && m.tx === tx, true)
    if (end.type === 'failed') throw new Error(`${this.name}/${tx} failed: ${end.message}`)
  }

  /** The lock event of this worker that matches, past or future. */
  event(type: string, resource: string, lockerGuid?: string): Promise<FromWorker> {
    return this.next(
      (m) =>
        m.type === 'event' &&
        m.event.type === type &&
        m.event.resource === resource &&
        (lockerGuid === undefined || m.event.lockerGuid === lockerGuid),
      true,
    )
  }

  /** Resolves when the bulb has received command `step` of transaction `tx`. */
  command(tx: string, step: number): Promise<FromWorker> {
    return this.next((m) => m.type === 'command' && m.tx === tx && m.step === step, true)
  }

  /** The codes the recover handler of `tx` was called with so far. */
  recoveries(tx: string): string[] {
    return this.messages.flatMap((m) => (m.type === 'recover' && m.tx === tx ? [m.code] : []))
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.child.kill('SIGCONT')
    this.send({ type: 'close' })
    const closed = this.next((m) => m.type === 'closed').catch(() => undefined)
    await Promise.race([closed, this.exited])
    this.child.kill('SIGKILL')
    await this.exited
  }
}

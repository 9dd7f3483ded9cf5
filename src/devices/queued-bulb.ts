import type { Bulb, BulbCapabilities, BulbCommand, BulbEvent, BulbState, ColorInput, CommandOrigin } from './bulb.js'
import { CommandQueue, type CommandQueueOptions, type CommandSignal } from './command-queue.js'
import { isUnreachableError } from './errors.js'
import { silentLogger, type DeviceLogger } from './logger.js'
import { resolveCommand, sameState, type ResolvedCommand } from './resolve-command.js'

/** Who a bulb is; `description` names it in errors and logs, e.g. `bath_bulb (kasa 192.168.1.40)`. */
export interface BulbIdentity {
  readonly id: string
  readonly name: string
  readonly adapter: string
  readonly capabilities: BulbCapabilities
  /** Never include secrets here: it goes into every error message and log line. */
  readonly description: string
}

/** Queue and logging settings every adapter accepts. */
export interface QueuedBulbOptions {
  readonly queue?: Omit<CommandQueueOptions, 'device'>
  readonly logger?: DeviceLogger
  /** State before the first report. Default: off, 100 %, unreachable until the bulb answers. */
  readonly initialState?: BulbState
}

/** What an adapter gets with each command attempt. */
export interface SendContext {
  /** Aborts when this attempt timed out. */
  readonly signal: CommandSignal
  readonly attempt: number
  readonly origin?: CommandOrigin
  /** The command as the caller wrote it (before capability fallbacks), for logs. */
  readonly original: BulbCommand
}

/**
 * The part every adapter shares: command validation and capability fallbacks, the per-device
 * {@link CommandQueue}, the last known state, and state/availability events. An adapter only says how to send
 * one resolved command and how to read the bulb's state.
 */
export abstract class QueuedBulb implements Bulb {
  readonly id: string
  readonly name: string
  readonly adapter: string
  readonly capabilities: BulbCapabilities
  readonly description: string
  protected readonly queue: CommandQueue
  protected readonly logger: DeviceLogger
  private current: BulbState
  private readonly listeners = new Set<(event: BulbEvent) => void>()

  constructor(identity: BulbIdentity, options: QueuedBulbOptions = {}) {
    this.id = identity.id
    this.name = identity.name
    this.adapter = identity.adapter
    this.capabilities = identity.capabilities
    this.description = identity.description
    this.queue = new CommandQueue({ ...options.queue, device: identity.description })
    this.logger = options.logger ?? silentLogger
    this.current = options.initialState ?? { on: false, brightness: 100, reachable: false }
  }

  /** Sends one resolved command; resolves with the bulb's state afterwards. */
  protected abstract send(command: ResolvedCommand, context: SendContext): Promise<BulbState>

  /** Reads the bulb's state. */
  protected abstract fetchState(signal: CommandSignal): Promise<BulbState>

  get state(): BulbState {
    return this.current
  }

  setState(command: BulbCommand, origin?: CommandOrigin): Promise<BulbState> {
    let resolved: ResolvedCommand
    try {
      resolved = resolveCommand(this.description, this.capabilities, command)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.queue
      .run((signal, attempt) => this.send(resolved, { signal, attempt, origin, original: command }))
      .then(
        (state) => this.report(state),
        (error: unknown) => this.fail(error, command),
      )
  }

  /** Sets the colour and turns the bulb on. */
  setColor(color: ColorInput, origin?: CommandOrigin): Promise<BulbState> {
    return this.setState({ on: true, color }, origin)
  }

  /** Sets brightness (0–100 %); a positive value turns the bulb on, 0 turns it off. */
  setBrightness(percent: number, origin?: CommandOrigin): Promise<BulbState> {
    return this.setState(percent > 0 ? { on: true, brightness: percent } : { brightness: 0 }, origin)
  }

  setPower(on: boolean, origin?: CommandOrigin): Promise<BulbState> {
    return this.setState({ on }, origin)
  }

  getStatus(): Promise<BulbState> {
    return this.readStatus()
  }

  /** Reads the bulb's state through the queue; `retries: 0` makes it a single quick probe. */
  protected readStatus(options?: { retries?: number }): Promise<BulbState> {
    return this.queue
      .run((signal) => this.fetchState(signal), options)
      .then(
        (state) => this.report(state),
        (error: unknown) => this.fail(error, undefined),
      )
  }

  subscribe(listener: (event: BulbEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Accepts commands (again, after stop). Adapters that talk to a device also read its state once here. */
  async start(): Promise<void> {
    this.queue.reopen()
  }

  /**
   * Reads the state once, without retries, so starting never waits longer than one timeout for a bulb that is
   * off the network; failure is logged and shows as unreachable, and later commands retry as usual.
   */
  protected async probe(): Promise<void> {
    try {
      await this.readStatus({ retries: 0 })
    } catch (error) {
      this.logger.warn({ device: this.id, err: error }, `${this.description}: not reachable at start`)
    }
  }

  async stop(): Promise<void> {
    this.queue.close()
  }

  /** Records a state the bulb reported (a command answer, a poll, a pushed message) and emits what changed. */
  protected report(state: BulbState): BulbState {
    const previous = this.current
    if (sameState(previous, state)) return previous
    this.current = state
    if (previous.reachable !== state.reachable) this.emit({ type: 'availability', reachable: state.reachable })
    this.emit({ type: 'state', state })
    return state
  }

  /** Records that the bulb is (un)reachable; emits an availability event when that changed. */
  protected markReachable(reachable: boolean, error?: Error): void {
    if (this.current.reachable === reachable) return
    this.current = { ...this.current, reachable }
    this.emit(error ? { type: 'availability', reachable, error } : { type: 'availability', reachable })
    this.emit({ type: 'state', state: this.current })
  }

  private fail(error: unknown, command: BulbCommand | undefined): never {
    this.logger.warn({ device: this.id, command, err: error }, `${this.description}: command failed`)
    if (isUnreachableError(error)) this.markReachable(false, error as Error)
    throw error
  }

  private emit(event: BulbEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch (error) {
        // A faulty listener must not break the bulb or the other listeners.
        this.logger.error({ device: this.id, err: error }, 'bulb event listener threw')
      }
    }
  }
}

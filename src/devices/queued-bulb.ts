import type { Bulb, BulbCapabilities, BulbCommand, BulbEvent, BulbState, ColorInput, CommandOrigin } from './bulb.js'
import { isLockError } from '../lock/errors.js'
import { fencedView, type CallFence, type FenceAware } from '../lock/fence.js'
import { CommandQueue, type CommandFence, type CommandQueueOptions, type CommandSignal } from './command-queue.js'
import { isUnreachableError } from './errors.js'
import { silentLogger, type DeviceLogger } from './logger.js'
import { Poller } from './poller.js'
import { checkReportedState, echoWithin, EXACT_ECHO, isReportInRange, type EchoMatcher } from './reported-state.js'
import { applyCommand, resolveCommand, sameState, type ResolvedCommand } from './resolve-command.js'

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
  /**
   * State before the first report. Default: off, 100 %, unreachable until the bulb answers, and the first state it
   * reports is taken as it is (not as an outside change). Given, it counts as known.
   */
  readonly initialState?: BulbState
  /**
   * Whether a state the bulb reported is the echo of a look genlock commanded, given the rounding of the bulb's own
   * units ({@link echoWithin}). Default: exact.
   */
  readonly echo?: EchoMatcher
  /**
   * Read the bulb's state every this many ms (for bulbs that do not push it), backing off while it does not answer
   * and never while a command is in flight; a change found this way is an outside change. Default 0: no polling.
   */
  readonly pollMs?: number
}

/** A look genlock commanded whose echo may still come. */
interface Expectation {
  readonly state: BulbState
  /** The command is still queued or being sent (its echo is surely still to come). */
  inFlight: boolean
}

/**
 * Commanded looks remembered for echoes that come late (a Zigbee2MQTT light without confirm, a timed-out command
 * the bulb applies after all). Eight covers a burst of commands; older looks are forgotten.
 */
const EXPECTATIONS_KEPT = 8

/**
 * The fence each command origin made by a fenced handle carries. Kept beside the origin rather than in it, so the
 * origin stays the plain `{ holder, token }` that logs and command logs show.
 */
const originFences = new WeakMap<CommandOrigin, CommandFence>()

/** The fence a command with `origin` was issued under, if a fenced handle issued it. */
export function fenceOf(origin: CommandOrigin | undefined): CommandFence | undefined {
  return origin === undefined ? undefined : originFences.get(origin)
}

/** `origin` stamped with `fence`: the fence's token, and the fence itself (see {@link fenceOf}). */
function fencedOrigin(origin: CommandOrigin | undefined, fence: CallFence): CommandOrigin {
  const stamped: CommandOrigin = { holder: origin?.holder ?? fence.holder, token: fence.token }
  originFences.set(stamped, fence)
  return stamped
}

/** What an adapter gets with each command attempt. */
export interface SendContext {
  /** Aborts when this attempt timed out. */
  readonly signal: CommandSignal
  readonly attempt: number
  readonly origin?: CommandOrigin
  /** The command as the caller wrote it (before capability fallbacks), for logs. */
  readonly original: BulbCommand
  /**
   * The state this command leaves the bulb in: the command applied over every command queued before it (not over
   * {@link QueuedBulb.state}, which lags one command behind while the queue moves on). What an adapter resolves with
   * when the bulb does not report its state back.
   */
  readonly expected: BulbState
  /**
   * The lease the command was issued under, when it came through a fenced handle. The queue checked it as this
   * attempt left; an adapter that waits before the command really leaves (for a connection) checks it again then.
   */
  readonly fence?: CommandFence | undefined
}

/**
 * The part every adapter shares: command validation and capability fallbacks, the per-device
 * {@link CommandQueue}, the last known state, and state/availability events. An adapter only says how to send
 * one resolved command and how to read the bulb's state.
 */
export abstract class QueuedBulb implements Bulb, FenceAware {
  readonly id: string
  readonly name: string
  readonly adapter: string
  readonly capabilities: BulbCapabilities
  readonly description: string
  protected readonly queue: CommandQueue
  protected readonly logger: DeviceLogger
  private current: BulbState
  private readonly listeners = new Set<(event: BulbEvent) => void>()
  private readonly echo: EchoMatcher
  private expectations: Expectation[] = []
  private readonly poller: Poller | undefined
  /** Whether `current` came from the bulb (or the caller) rather than the placeholder before the first report. */
  private known: boolean

  constructor(identity: BulbIdentity, options: QueuedBulbOptions = {}) {
    this.id = identity.id
    this.name = identity.name
    this.adapter = identity.adapter
    this.capabilities = identity.capabilities
    this.description = identity.description
    this.queue = new CommandQueue({ ...options.queue, device: identity.description })
    this.logger = options.logger ?? silentLogger
    this.current = options.initialState ?? { on: false, brightness: 100, reachable: false }
    this.known = options.initialState !== undefined
    this.echo = options.echo ?? echoWithin(EXACT_ECHO)
    this.poller =
      options.pollMs && options.pollMs > 0
        ? new Poller({ intervalMs: options.pollMs, poll: () => this.poll(), busy: () => this.queue.size > 0 })
        : undefined
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
    let expectation: Expectation | undefined
    const fence = fenceOf(origin)
    return this.queue
      .run((signal, attempt) => {
        expectation ??= this.expect(resolved)
        return this.send(resolved, { signal, attempt, origin, original: command, expected: expectation.state, fence })
      }, fence && { fence })
      .then(
        (state) => {
          if (expectation) expectation.inFlight = false
          return this.report(state)
        },
        (error: unknown) => {
          if (expectation) expectation.inFlight = false
          return this.fail(error, command)
        },
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

  /**
   * What a lock's fenced handle calls: every command carries the lease it was issued under (its fencing token in
   * the origin), is checked again as each attempt leaves, and is withdrawn if the lease ends before.
   */
  [fencedView](fence: CallFence): Partial<Bulb> {
    return {
      setState: (command, origin) => this.setState(command, fencedOrigin(origin, fence)),
      setColor: (color, origin) => this.setColor(color, fencedOrigin(origin, fence)),
      setBrightness: (percent, origin) => this.setBrightness(percent, fencedOrigin(origin, fence)),
      setPower: (on, origin) => this.setPower(on, fencedOrigin(origin, fence)),
    }
  }

  /** Reads the bulb's state through the queue (and tells an outside change); `retries: 0` makes it a single quick probe. */
  protected readStatus(options?: { retries?: number }): Promise<BulbState> {
    return this.queue
      .run((signal) => this.fetchState(signal), options)
      .then(
        (state) => this.reportObserved(state),
        (error: unknown) => this.fail(error, undefined),
      )
  }

  subscribe(listener: (event: BulbEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Accepts commands (again, after stop) and starts polling, if asked for. Adapters that talk to a device also read its
   * state once here.
   */
  async start(): Promise<void> {
    this.queue.reopen()
    this.poller?.start()
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
    this.poller?.stop()
    this.queue.close()
  }

  /**
   * Stops polling until the next {@link start}, for an adapter that learns only on connecting that the device pushes
   * its state after all (a Hue bridge with an event stream needs no polls; one with CLIP v1 only does).
   */
  protected stopPolling(): void {
    this.poller?.stop()
  }

  /** One poll: a read without retries. A failure marks the bulb unreachable, logged at debug only (polls repeat). */
  private async poll(): Promise<boolean> {
    try {
      this.reportObserved(await this.queue.run((signal) => this.fetchState(signal), { retries: 0 }))
      return true
    } catch (error) {
      if (isUnreachableError(error)) this.markReachable(false, error as Error)
      this.logger.debug({ device: this.id, err: error }, `${this.description}: poll failed`)
      return false
    }
  }

  /**
   * The one way adapters report a state the bulb reported on its own: a poll, an event stream, an MQTT state message.
   * The report is checked like a command (out-of-range fields are dropped with a warning and keep their previous
   * value), then compared with what genlock commanded:
   *
   * - the bulb's first report (unless an initial state was given) is taken as it is;
   * - a report that matches the current look, or a look genlock commanded recently (within the adapter's
   *   {@link EchoMatcher} tolerance), is genlock's own echo: the commanded look is kept (no rounding noise);
   * - anything else is an **outside change** (the app, a wall switch, a remote): it becomes the state and is emitted
   *   as `{ type: 'state', state, outside: true }`.
   *
   * An answer to genlock's own command (what `send` resolves with) is never an outside change and does not come here.
   * Returns the state the bulb is now believed to be in.
   */
  protected reportObserved(reported: BulbState): BulbState {
    const state = this.checked(reported)
    if (!this.known) return this.report(state)
    if (this.echo(this.current, state)) return this.report({ ...this.current, reachable: state.reachable })
    const index = this.expectations.findIndex((expectation) => this.echo(expectation.state, state))
    if (index >= 0) {
      const newest = index === this.expectations.length - 1
      const look = this.expectations[index]!.state
      this.expectations.splice(0, index + 1)
      // An echo of an older command while newer ones are on their way: the bulb will move on, keep believing the newest.
      return this.report(
        newest ? { ...look, reachable: state.reachable } : { ...this.current, reachable: state.reachable },
      )
    }
    // Commands still on their way will be echoed after this change; finished ones never will be.
    this.expectations = this.expectations.filter((expectation) => expectation.inFlight)
    this.logger.debug({ device: this.id, state }, `${this.description}: changed outside genlock`)
    return this.report(state, true)
  }

  /** Records a state (a command's answer, a reachability change) and emits what changed. */
  protected report(reported: BulbState, outside = false): BulbState {
    const state = this.checked(reported)
    this.known = true
    const previous = this.current
    if (sameState(previous, state)) return previous
    this.current = state
    if (previous.reachable !== state.reachable) this.emit({ type: 'availability', reachable: state.reachable })
    this.emit(outside ? { type: 'state', state, outside: true } : { type: 'state', state })
    return state
  }

  /** Remembers the look `command` will leave the bulb in, so its echo is known when it comes. */
  private expect(command: ResolvedCommand): Expectation {
    const base = this.expectations.at(-1)?.state ?? this.current
    const expectation: Expectation = { state: applyCommand(base, command), inFlight: true }
    if (this.expectations.push(expectation) > EXPECTATIONS_KEPT) this.expectations.shift()
    return expectation
  }

  /** `reported` with out-of-range fields dropped, each logged once per report. */
  private checked(reported: BulbState): BulbState {
    if (isReportInRange(reported)) return reported
    const { state, problems } = checkReportedState(reported, this.current)
    for (const problem of problems) {
      this.logger.warn(
        { device: this.id, field: problem.field, value: problem.value },
        `${this.description}: reported ${problem.field} ${JSON.stringify(problem.value)} is out of range ` +
          `(${problem.expected}); kept the previous value`,
      )
    }
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
    if (isLockError(error, 'FENCED')) {
      this.logger.info({ device: this.id, command }, `${this.description}: command withdrawn: ${error.message}`)
      throw error
    }
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

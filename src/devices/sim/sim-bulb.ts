import type { BulbCapabilities, BulbCommand, BulbState, CommandOrigin } from '../bulb.js'
import type { CommandSignal } from '../command-queue.js'
import { DeviceUnreachableError, TransientDeviceError } from '../errors.js'
import { QueuedBulb, type QueuedBulbOptions, type SendContext } from '../queued-bulb.js'
import { applyCommand, resolveCommand, type ResolvedCommand } from '../resolve-command.js'

/** One command a {@link SimBulb} applied: when, what was asked, by whom, and the state it left the bulb in. */
export interface SimCommandLogEntry {
  /** `clock()` time (ms) the bulb applied the command. */
  readonly at: number
  /** The command as the caller issued it. */
  readonly command: BulbCommand
  /** The lock holder (and fencing token) that issued it, when given. */
  readonly origin?: CommandOrigin
  /** The bulb's state right after the command (the transition's target). */
  readonly state: BulbState
}

export interface SimBulbOptions extends QueuedBulbOptions {
  readonly id: string
  readonly name?: string
  /** Default: a colour bulb with white 2000–6500 K. */
  readonly capabilities?: BulbCapabilities
  /** Time each command takes to answer, ms. Default 0 (answers in the same tick). */
  readonly latencyMs?: number
  /** Share of commands (0–1) that fail with a transient error, which the queue retries. Default 0. */
  readonly failureRate?: number
  /** Random source for `failureRate`; pass a seeded one for repeatable tests. Default Math.random. */
  readonly random?: () => number
  /** Time source for the command log and transitions. Default Date.now. */
  readonly clock?: () => number
  /** Most entries the command log keeps (oldest dropped first), so a long simulation does not grow forever. Default 100. */
  readonly commandLogLimit?: number
}

/** The capabilities of a colour bulb with tunable white, the sim's default. */
export const COLOR_BULB: BulbCapabilities = { dimmable: true, color: true, colorTemp: { min: 2000, max: 6500 } }

interface Transition {
  readonly from: number
  readonly to: number
  readonly start: number
  readonly duration: number
}

/**
 * An in-memory bulb that behaves like a real one: it honours its capabilities (a white-only sim gets the same
 * nearest-white fallback as a real white bulb), fades brightness over `transition`, can be slow (`latencyMs`),
 * flaky (`failureRate`), hung (`setHung(true)`) or unplugged (`setReachable(false)`), and keeps a command log.
 *
 * Tests wait for commands instead of sleeping: `await sim.nextCommand()`.
 *
 * @example
 * const bulb = new SimBulb({ id: 'bath_bulb', capabilities: { dimmable: true, color: false, colorTemp: { min: 2700, max: 6500 } } })
 * await bulb.start()
 * await bulb.setColor('red', { holder: 'evening' }) // a white bulb: lands on 2700 K
 * bulb.commandLog[0]?.origin?.holder // 'evening'
 */
export class SimBulb extends QueuedBulb {
  private readonly log: SimCommandLogEntry[] = []
  private readonly waiters = new Set<(entry: SimCommandLogEntry) => void>()
  private readonly latencyMs: number
  private readonly failureRate: number
  private readonly random: () => number
  private readonly clock: () => number
  private readonly commandLogLimit: number
  private reachable = true
  private hung = false
  private failuresAhead = 0
  private readonly hungReleases = new Set<() => void>()
  private fade: Transition | undefined
  private applied: BulbState

  constructor(options: SimBulbOptions) {
    super(
      {
        id: options.id,
        name: options.name ?? options.id,
        adapter: 'sim',
        capabilities: options.capabilities ?? COLOR_BULB,
        description: `${options.id} (sim)`,
      },
      {
        ...options,
        initialState: options.initialState ?? { on: false, brightness: 100, reachable: true },
      },
    )
    this.latencyMs = options.latencyMs ?? 0
    this.failureRate = options.failureRate ?? 0
    this.random = options.random ?? Math.random
    this.clock = options.clock ?? Date.now
    // A daemon runs sim bulbs for months: the last 100 commands per bulb are plenty to inspect and stay small.
    this.commandLogLimit = options.commandLogLimit ?? 100
    this.applied = this.state
    this.reachable = this.state.reachable
  }

  /** The commands the bulb applied (up to `commandLogLimit`, the most recent), oldest first; failed attempts are not in it. */
  get commandLog(): readonly SimCommandLogEntry[] {
    return this.log
  }

  /**
   * The next command the bulb applies (after this call) that matches `predicate`. Resolves on the event, so a
   * test waits exactly as long as it must.
   */
  nextCommand(predicate: (entry: SimCommandLogEntry) => boolean = () => true): Promise<SimCommandLogEntry> {
    return new Promise((resolve) => {
      const waiter = (entry: SimCommandLogEntry) => {
        if (!predicate(entry)) return
        this.waiters.delete(waiter)
        resolve(entry)
      }
      this.waiters.add(waiter)
    })
  }

  /** Resolves once the log holds at least `count` commands (at once if it already does). */
  async waitForCommands(count: number): Promise<readonly SimCommandLogEntry[]> {
    while (this.log.length < count) await this.nextCommand()
    return this.log
  }

  /** Unplugs (`false`) or plugs in (`true`) the bulb; emits an availability event when that changes. */
  setReachable(reachable: boolean): void {
    this.reachable = reachable
    if (reachable) this.report({ ...this.applied, reachable: true })
    else this.markReachable(false, new DeviceUnreachableError(this.description, 'unplugged'))
  }

  /** A hung bulb accepts commands and never answers them (until `setHung(false)`), like a wedged Kasa socket. */
  setHung(hung: boolean): void {
    this.hung = hung
    if (!hung) {
      for (const release of this.hungReleases) release()
      this.hungReleases.clear()
    }
  }

  /** Makes the next `count` attempts fail with a transient error (which the queue retries), like a lost radio frame. */
  failNext(count = 1): void {
    this.failuresAhead += count
  }

  /**
   * Changes the bulb as a person would with its app or wall switch: genlock did not command it, so subscribers see
   * `{ type: 'state', state, outside: true }`. `change` is checked and resolved like a command.
   */
  changeFromApp(change: BulbCommand): BulbState {
    const state = applyCommand(this.applied, resolveCommand(this.description, this.capabilities, change))
    this.applied = state
    this.fade = undefined
    return this.reportObserved(state)
  }

  /** Brightness the lamp shows at `time` (ms, default now), following any fade in progress. */
  brightnessAt(time: number = this.clock()): number {
    const fade = this.fade
    if (!fade || fade.duration <= 0 || time >= fade.start + fade.duration)
      return this.applied.on ? this.applied.brightness : 0
    const progress = Math.max(0, (time - fade.start) / fade.duration)
    return fade.from + (fade.to - fade.from) * progress
  }

  protected async send(command: ResolvedCommand, context: SendContext): Promise<BulbState> {
    await this.answerDelay(context.signal)
    const now = this.clock()
    const from = this.brightnessAt(now)
    const state = applyCommand(this.applied, command)
    this.applied = state
    this.fade = { from, to: state.on ? state.brightness : 0, start: now, duration: command.transition ?? 0 }
    const entry: SimCommandLogEntry =
      context.origin === undefined
        ? { at: now, command: context.original, state }
        : { at: now, command: context.original, origin: plainOrigin(context.origin), state }
    this.log.push(entry)
    if (this.log.length > this.commandLogLimit) this.log.splice(0, this.log.length - this.commandLogLimit)
    for (const waiter of [...this.waiters]) waiter(entry)
    return state
  }

  protected async fetchState(signal: CommandSignal): Promise<BulbState> {
    await this.answerDelay(signal)
    return this.applied
  }

  /** Latency, hang, unplugged and random failures: everything that happens before the bulb answers. */
  private async answerDelay(signal: CommandSignal): Promise<void> {
    if (this.hung) {
      await new Promise<void>((resolve) => {
        const release = () => {
          this.hungReleases.delete(release)
          resolve()
        }
        this.hungReleases.add(release)
        signal.onAbort(release)
      })
      if (signal.aborted) throw signal.reason
    }
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs))
    if (!this.reachable) throw new DeviceUnreachableError(this.description, 'unplugged')
    if (this.failuresAhead > 0) {
      this.failuresAhead--
      throw new TransientDeviceError(this.description, 'simulated radio failure')
    }
    if (this.failureRate > 0 && this.random() < this.failureRate) {
      throw new TransientDeviceError(this.description, 'simulated radio failure')
    }
  }
}

/**
 * A copy of `origin` for the command log. Never the origin itself: a fenced handle's origin is the key under which
 * its fence is kept (queued-bulb.ts, a WeakMap), so a logged origin kept the fence alive, and with it the whole
 * transaction run that issued the command (its generator, steps and lease): 100 entries on each of 40 bulbs held
 * 2,000 finished runs (issue 18, RSS growth after 10,000 triggers).
 */
function plainOrigin(origin: CommandOrigin): CommandOrigin {
  return {
    ...(origin.holder === undefined ? {} : { holder: origin.holder }),
    ...(origin.token === undefined ? {} : { token: origin.token }),
  }
}

import type { Bulb, BulbCommand, BulbState } from '../devices/bulb.js'
import type { TransactionContext } from '../lock/index.js'
import type { CommandTracker } from './command-tracker.js'
import { restoreCommand } from './restore.js'

/** What a run last set on each of its bulbs: the state each bulb answered its last command with. */
export type RunLooks = Map<string, BulbState>

/** What putting a run's look back uses of the run. */
export interface LookServices {
  readonly commands: CommandTracker
  /** The run's automation: the holder its commands carry. */
  readonly holder: string
  warn(message: string): void
  /** Reports each command sent (a `command` run event, like a `set` step's). */
  report(device: string, command: BulbCommand, answer: Promise<BulbState>): void
}

/**
 * Runs `steps` and, each time the run gets its lock back after losing it (`on_preempt: resume`), first puts its
 * bulbs back to what it last set — the party goes on in its own colour and brightness, not in the alarm's — and
 * then hands the interrupted step its result. A bulb that already shows the look gets nothing; a bulb that
 * refuses is logged and the run goes on.
 */
export function* resumingWithLook(
  steps: Generator<unknown, void, unknown>,
  ctx: TransactionContext,
  looks: RunLooks,
  bulbs: ReadonlyMap<string, Bulb>,
  services: LookServices,
): Generator<unknown, void, unknown> {
  let attempt = ctx.attempt
  let ok = true
  let value: unknown
  try {
    for (;;) {
      const step = ok ? steps.next(value) : steps.throw(value)
      if (step.done) return
      try {
        value = yield step.value
        ok = true
      } catch (error) {
        value = error
        ok = false
      }
      if (ctx.attempt === attempt) continue
      attempt = ctx.attempt
      const back = putBack(ctx, looks, bulbs, services)
      if (!back) continue
      try {
        yield back
      } catch (error) {
        services.warn(`could not put its look back on resuming: ${error instanceof Error ? error.message : error}`)
      }
    }
  } finally {
    // Closed early (cancelled, restarted): the steps' own `finally` blocks run too.
    steps.return(undefined)
  }
}

function putBack(
  ctx: TransactionContext,
  looks: RunLooks,
  bulbs: ReadonlyMap<string, Bulb>,
  services: LookServices,
): Promise<unknown> | undefined {
  const sends: Promise<unknown>[] = []
  for (const [id, look] of looks) {
    const bulb = bulbs.get(id)
    if (!bulb) continue
    const command = restoreCommand(look)
    if (JSON.stringify(restoreCommand(bulb.state)) === JSON.stringify(command)) continue
    const origin = { holder: services.holder, token: ctx.token }
    const answer = services.commands.track(id, bulb.setState(command, origin))
    services.report(id, command, answer)
    // Its look is what it set: the answer is the same state again.
    sends.push(answer)
  }
  return sends.length === 0 ? undefined : Promise.all(sends)
}

import { parseColor } from '../devices/color.js'
import type { RunVariables } from './expression-context.js'
import type { SetCommand } from './step-set.js'

/** A top-level `set` step whose values a trigger's payload may make impossible. */
export interface SetCheck {
  readonly label: string
  readonly command: SetCommand
}

/** Thrown by a variable that is not known before the run starts; the check then cannot judge that step. */
class NotKnownYet extends Error {}

const unknownYet = new Proxy(
  {},
  {
    get() {
      throw new NotKnownYet()
    },
  },
)

/**
 * Why a trigger cannot make a good run, found before the run asks for the lock (issue 13.12: a junk payload took
 * the lock from a running automation, then failed at its first step). Builds each top-level `set` step's command
 * with only the trigger known (`wait`, `repeat`, `last`, `device`, `now` may change before the step runs, so a
 * step reading them is not judged) and checks colours as a bulb would. Undefined when nothing is wrong.
 */
export function triggerProblem(checks: readonly SetCheck[], variables: RunVariables): string | undefined {
  const known = {
    ...variables,
    wait: unknownYet,
    repeat: unknownYet,
    last: unknownYet,
    last_json: unknownYet,
    device: unknownYet,
    now: unknownYet,
  } as unknown as RunVariables
  for (const { label, command } of checks) {
    try {
      const built = command(known)
      if (built.color !== undefined) parseColor(built.color)
    } catch (error) {
      if (error instanceof NotKnownYet) continue
      return `${label}: ${error instanceof Error ? error.message : String(error)}`
    }
  }
  return undefined
}

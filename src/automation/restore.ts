import type { Logger } from 'pino'
import type { Bulb, BulbCommand, BulbState } from '../devices/bulb.js'
import { isLockError } from '../lock/errors.js'
import type { CommitPromise, Locker } from '../lock/index.js'
import { keepsLookWhileOff } from './device-facts.js'

// Lower than any priority a YAML file can sensibly hold: a restore never takes a bulb from anyone.
const RESTORE_PRIORITY = Number.MIN_SAFE_INTEGER

/**
 * The command that puts a bulb back into `state`: on or off, brightness, and colour or white as they were. An off
 * bulb gets its look only when `lookWhileOff` (the bulb keeps it for the next time it is switched on; see
 * `keepsLookWhileOff`); otherwise just `on: false`, since giving it a brightness would switch it on.
 */
export function restoreCommand(state: BulbState, lookWhileOff = false): BulbCommand {
  if (!state.on && !lookWhileOff) return { on: false }
  const on = state.on
  if (state.color) return { on, brightness: state.brightness, color: state.color }
  if (state.colorTemp !== undefined) return { on, brightness: state.brightness, colorTemp: state.colorTemp }
  return { on, brightness: state.brightness }
}

/**
 * Puts one bulb back into the `snapshot` state under `locker`, only if nobody has it (lowest priority, one
 * attempt, no waiting) and nobody else took it since the snapshot (`takenSince`, the holder who did: their
 * state is the newer choice), giving up after `timeoutMs`. Logs what happened; never throws.
 */
export async function restoreDevice(
  id: string,
  locker: Locker<Bulb>,
  snapshot: Promise<BulbState>,
  holder: string,
  timeoutMs: number,
  logger: Logger,
  takenSince?: string,
): Promise<void> {
  if (takenSince !== undefined) {
    logger.info({ device: id, by: takenSince }, `not restoring ${id}: ${takenSince} took it since`)
    return
  }
  let commit: CommitPromise<void, Bulb> | undefined
  let abandoned = false
  let timer: ReturnType<typeof setTimeout> | undefined
  // A hung bulb must not hold up a shutdown (the daemon has 5 s for it): give up on the restore instead.
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs)
    timer.unref?.()
  })
  const attempt = (async () => {
    const state = await snapshot
    if (abandoned) return
    commit = locker.promise(
      function* restoreTransaction(bulb, ctx) {
        yield bulb.setState(restoreCommand(state, keepsLookWhileOff(bulb.adapter)), { holder, token: ctx.token })
      },
      { priority: RESTORE_PRIORITY, maxAcquireAttempts: 1, acquireTimeout: 0 },
    )
    await commit
  })()
  try {
    if ((await Promise.race([attempt, deadline])) === 'late') {
      abandoned = true
      commit?.cancel('restore took too long')
      logger.warn({ device: id }, `gave up restoring ${id}: no answer within ${timeoutMs} ms`)
      attempt.catch(() => {})
      return
    }
    logger.info({ device: id }, `restored ${id}`)
  } catch (error) {
    if (isLockError(error, 'ALREADY_LOCKED') || isLockError(error, 'ACQUIRE_TIMEOUT')) {
      logger.info({ device: id }, `not restoring ${id}: another automation has it`)
    } else {
      logger.warn({ device: id, err: error }, `could not restore ${id}: ${String(error)}`)
    }
  } finally {
    clearTimeout(timer)
  }
}

import { createFactory, type LockerFactory } from './locker.js'
import { memoryProtocol } from './memory.js'
import { normalizeOptions, type AcquireOptions } from './options.js'
import type { LockingProtocol } from './protocol.js'

/**
 * Creates lockers that share `protocol` (in-memory, this runtime only, by default) and start from
 * `defaults`.
 *
 * @example
 * import genLock, { alwaysResume } from 'genlock'
 * const { newLocker } = genLock()
 * const partyModeLock = newLocker('bath_bulb', bulb)
 * const securityLock = newLocker('bath_bulb', bulb, { priority: 2 })
 */
export default function genLock(defaults?: AcquireOptions, protocol?: LockingProtocol): LockerFactory {
  normalizeOptions(defaults) // fail fast on bad factory options
  return createFactory(defaults, protocol ?? memoryProtocol())
}

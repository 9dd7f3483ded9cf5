/**
 * How to acquire a lock. Every field is optional; unset fields inherit, in this order:
 * factory defaults < locker defaults < per-transaction options < recovery-op options.
 *
 * The original gen-lock spellings `aquireTimeout` and `maxAquireAttempts` are accepted as aliases.
 */
export interface AcquireOptions {
  /** Higher preempts a strictly lower holder at once. Default 0. */
  priority?: number
  /** Time to hold the lock, from its grant, in ms. Default Infinity. */
  lockTtl?: number
  /** Time to wait for the lock, in ms. Default Infinity. */
  acquireTimeout?: number
  /** Chances at the lock: the first try, then each time it is handed to someone else while we wait. Default Infinity. */
  maxAcquireAttempts?: number
  /** @deprecated the seed's spelling of `acquireTimeout` */
  aquireTimeout?: number
  /** @deprecated the seed's spelling of `maxAcquireAttempts` */
  maxAquireAttempts?: number
  /** Aborting this signal cancels the transaction, waiting or running. */
  signal?: AbortSignal
}

/** Options with every default filled in. */
export interface ResolvedOptions {
  priority: number
  lockTtl: number
  acquireTimeout: number
  maxAcquireAttempts: number
  signal: AbortSignal | undefined
}

export const DEFAULT_OPTIONS: Readonly<ResolvedOptions> = Object.freeze({
  priority: 0,
  lockTtl: Infinity,
  acquireTimeout: Infinity,
  maxAcquireAttempts: Infinity,
  signal: undefined,
})

/** Copies the set fields of `options`, spelled correctly, checking each value. */
export function normalizeOptions(options: AcquireOptions | undefined): AcquireOptions {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null) throw new TypeError('acquire options must be an object')
  const out: AcquireOptions = {}
  const acquireTimeout = options.acquireTimeout ?? options.aquireTimeout
  const maxAcquireAttempts = options.maxAcquireAttempts ?? options.maxAquireAttempts
  if (options.priority !== undefined) out.priority = checkNumber('priority', options.priority, -Infinity, false)
  if (options.lockTtl !== undefined) out.lockTtl = checkNumber('lockTtl', options.lockTtl, 0, true)
  if (acquireTimeout !== undefined) out.acquireTimeout = checkNumber('acquireTimeout', acquireTimeout, 0, true)
  if (maxAcquireAttempts !== undefined) {
    out.maxAcquireAttempts = checkNumber('maxAcquireAttempts', maxAcquireAttempts, 1, true)
  }
  if (options.signal !== undefined) out.signal = options.signal
  return out
}

function checkNumber(name: string, value: unknown, min: number, allowInfinity: boolean): number {
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    value >= min &&
    (allowInfinity ? value !== -Infinity : Number.isFinite(value))
  if (!ok) {
    const range = Number.isFinite(min) ? `a number >= ${min}` : 'a finite number'
    throw new TypeError(`${name} must be ${range}${allowInfinity ? ' (or Infinity)' : ''}, got ${String(value)}`)
  }
  return value as number
}

/** Merges normalized layers, later ones winning, over the defaults. */
export function resolveOptions(...layers: (AcquireOptions | undefined)[]): ResolvedOptions {
  const out: ResolvedOptions = { ...DEFAULT_OPTIONS }
  for (const layer of layers) {
    if (layer === undefined) continue
    if (layer.priority !== undefined) out.priority = layer.priority
    if (layer.lockTtl !== undefined) out.lockTtl = layer.lockTtl
    if (layer.acquireTimeout !== undefined) out.acquireTimeout = layer.acquireTimeout
    if (layer.maxAcquireAttempts !== undefined) out.maxAcquireAttempts = layer.maxAcquireAttempts
    if (layer.signal !== undefined) out.signal = layer.signal
  }
  return out
}

import type { LockError } from './errors.js'

/**
 * The lease one call through a fenced handle was issued under. A call made by a transaction step, or by a `.then`
 * chain or timer that step started, is issued under the lease the step ran under, even when it runs later: once the
 * transaction has been preempted, that lease is over for good, also after the transaction resumed under a new one.
 */
export interface CallFence {
  /** The lockerGuid holding the lease. */
  readonly holder: string
  /** The lease's fencing token (the largest, for a composite lock): every later grant on the resource has a larger one. */
  readonly token: number
  /** The lease's fencing token per resource guid. */
  readonly tokens: Readonly<Record<string, number>>
  /**
   * True while the lease is still its holder's current lease; false for good once it is lost, released or the
   * transaction ended. Check it at the moment a command leaves, not only when it was queued.
   */
  readonly current: boolean
  /** The `FENCED` error to reject a call with once the lease is no longer current. */
  refusal(): LockError
  /** Calls `listener` once, when the lease ends (at once if it already has). Returns a function that removes it. */
  onEnd(listener: () => void): () => void
}

/**
 * A resource that wants to know the fence of each call implements this method: a fenced handle calls each method
 * on the view it returns for the call's fence (a method the view lacks is called on the resource itself). A bulb
 * uses it to carry the fence with each command, checking it again at the moment the command leaves.
 *
 * @example
 * class Valve {
 *   [fencedView](fence: CallFence) {
 *     return { open: () => this.send('open', fence.token) }
 *   }
 * }
 */
export const fencedView: unique symbol = Symbol.for('genlock.fencedView')

/** See {@link fencedView}. */
export interface FenceAware {
  [fencedView](fence: CallFence): object
}

/** Views already made, per fence and resource: a transaction step usually calls one resource many times. */
const views = new WeakMap<CallFence, WeakMap<object, object>>()

function viewFor(target: FenceAware, fence: CallFence): object {
  let byResource = views.get(fence)
  if (!byResource) views.set(fence, (byResource = new WeakMap()))
  let view = byResource.get(target)
  if (!view) byResource.set(target, (view = target[fencedView](fence)))
  return view
}

function isFenceAware(value: object): value is FenceAware {
  return typeof (value as Partial<FenceAware>)[fencedView] === 'function'
}

/**
 * Wraps `resource` so every method called through it first asks `issue` for the call's fence, which throws once the
 * lease the call is issued under is gone. Code the transaction started that outlives its lease (a `.then` chain, a
 * timer) then cannot reach the device, even after the transaction got the lock back. A {@link FenceAware} resource
 * gets the fence with the call, to check again when the call's effect leaves. Only the first level is fenced:
 * methods called from inside the resource's own methods run normally. Primitives are returned as they are.
 */
export function fence<R>(resource: R, issue: () => CallFence): R {
  if (resource === null || (typeof resource !== 'object' && typeof resource !== 'function')) return resource
  const target = resource as object
  const aware = isFenceAware(target)
  const wrappers = new Map<PropertyKey, { original: unknown; wrapper: unknown }>()
  // The proxy's own target is an empty object inheriting from the resource: a frozen resource's
  // non-configurable methods could not be replaced by wrappers under the Proxy invariants otherwise.
  return new Proxy(Object.create(target) as object, {
    get(_shadow, key) {
      const value: unknown = Reflect.get(target, key, target)
      if (typeof value !== 'function' || key === fencedView) return value
      const cached = wrappers.get(key)
      if (cached && cached.original === value) return cached.wrapper
      const method = value as (...args: unknown[]) => unknown
      const wrapper = aware
        ? function fenced(...args: unknown[]) {
            const view = viewFor(target as FenceAware, issue()) as Record<PropertyKey, unknown>
            const own = view[key]
            return typeof own === 'function' ? (own as typeof method).apply(view, args) : method.apply(target, args)
          }
        : function fenced(...args: unknown[]) {
            issue()
            return method.apply(target, args)
          }
      wrappers.set(key, { original: value, wrapper })
      return wrapper
    },
    set(_shadow, key, value) {
      issue()
      return Reflect.set(target, key, value, target)
    },
    has: (_shadow, key) => Reflect.has(target, key),
    ownKeys: () => Reflect.ownKeys(target),
    getOwnPropertyDescriptor(_shadow, key) {
      const descriptor = Reflect.getOwnPropertyDescriptor(target, key)
      return descriptor && { ...descriptor, configurable: true }
    },
  }) as R
}

/**
 * Wraps `resource` so every method called through it first runs `check`, which throws once the lease is
 * gone. Code the transaction started that outlives its lock (a `.then` chain, a timer) then cannot reach the
 * device. Only the first level is fenced: methods called from inside the resource's own methods run normally.
 * Primitives are returned as they are.
 */
export function fence<R>(resource: R, check: () => void): R {
  if (resource === null || (typeof resource !== 'object' && typeof resource !== 'function')) return resource
  const target = resource as object
  const wrappers = new Map<PropertyKey, { original: unknown; wrapper: unknown }>()
  // The proxy's own target is an empty object inheriting from the resource: a frozen resource's
  // non-configurable methods could not be replaced by wrappers under the Proxy invariants otherwise.
  return new Proxy(Object.create(target) as object, {
    get(_shadow, key) {
      const value: unknown = Reflect.get(target, key, target)
      if (typeof value !== 'function') return value
      const cached = wrappers.get(key)
      if (cached && cached.original === value) return cached.wrapper
      const method = value as (...args: unknown[]) => unknown
      const wrapper = function fenced(...args: unknown[]) {
        check()
        return method.apply(target, args)
      }
      wrappers.set(key, { original: value, wrapper })
      return wrapper
    },
    set(_shadow, key, value) {
      check()
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

/**
 * Collects what is passed during one turn of the event loop and hands it to `flush` once, de-duplicated, at the
 * end of that turn (a microtask). A lock that changes hands is two events (the old holder's lease lost, the new
 * one's granted) in one turn: shown once, it never flickers through "free".
 *
 * @example
 * const changed = perTick((ids: string[]) => ids.forEach(publishDevice))
 * events.on(this, 'lock', (event) => changed(event.resource))
 */
export function perTick<K>(flush: (keys: K[]) => void): (key: K) => void {
  const due = new Set<K>()
  return (key) => {
    if (due.size === 0) {
      queueMicrotask(() => {
        const keys = [...due]
        due.clear()
        flush(keys)
      })
    }
    due.add(key)
  }
}

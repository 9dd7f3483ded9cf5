import type { Logger } from 'pino'
import type { Clock } from './clock.js'

/** How long after a warning the same kind of warning is only counted. */
export const WARN_WINDOW_MS = 60_000

/**
 * Warnings that a flood of junk messages would repeat, at most one per kind (`key`) a minute: the first is logged
 * at once, the ones within the next minute are counted, and the first after it says how many were left out
 * (as Home Assistant's `max_exceeded: silent` keeps a log readable under a flood; issue 13.12).
 */
export class WarnLimit {
  private readonly kinds = new Map<string, { until: number; skipped: number }>()

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const now = this.clock.now()
    const kind = this.kinds.get(key)
    if (kind && now < kind.until) {
      kind.skipped++
      return
    }
    const skipped = kind?.skipped ?? 0
    this.kinds.set(key, { until: now + WARN_WINDOW_MS, skipped: 0 })
    if (this.kinds.size > 1000) this.kinds.delete(this.kinds.keys().next().value!)
    this.logger.warn(
      skipped > 0 ? { ...fields, skipped } : fields,
      skipped > 0 ? `${message} (and ${skipped} more like it in the last minute, not logged)` : message,
    )
  }
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
/** The longest timer Node can set (about 24.8 days); a longer one would fire at once. */
export const MAX_DURATION_MS = 2_147_483_647

/**
 * Parses a duration as written in automation and device files: `500ms`, `1s`, `1.5s`, `10m`, `2h`, or a bare number of
 * milliseconds, up to MAX_DURATION_MS. Returns undefined for anything else.
 *
 * @example
 * parseDuration('10m') // 600000
 */
export function parseDuration(value: unknown): number | undefined {
  let ms: number
  if (typeof value === 'number') {
    ms = value
  } else {
    const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(value) : null
    if (!match) return undefined
    ms = Math.round(Number(match[1]) * UNITS[match[2]!]!)
  }
  return Number.isFinite(ms) && ms >= 0 && ms <= MAX_DURATION_MS ? ms : undefined
}

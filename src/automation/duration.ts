const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * Parses a duration as written in automation files: `500ms`, `1s`, `1.5s`, `10m`, `2h`, or a bare number of
 * milliseconds. Returns undefined for anything else.
 *
 * @example
 * parseDuration('10m') // 600000
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined
  if (typeof value !== 'string') return undefined
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(value)
  if (!match) return undefined
  return Math.round(Number(match[1]) * UNITS[match[2]!]!)
}

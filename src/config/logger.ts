import { pino, type DestinationStream, type Logger } from 'pino'

export type { Logger } from 'pino'

const levelNames: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
}

/** Fields pino adds to every line; the pretty format shows them in its own way or not at all. */
const shown = new Set(['level', 'time', 'msg', 'pid', 'hostname'])

/**
 * One JSON log line as a human-readable one: `12:00:01.234 INFO  party acquired {"devices":["bath_bulb"]}`.
 * Lines that are not JSON pass through unchanged.
 */
export function prettyLine(line: string): string {
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : ''
  const level = (levelNames[entry.level as number] ?? String(entry.level)).padEnd(5)
  const rest = Object.fromEntries(Object.entries(entry).filter(([key]) => !shown.has(key)))
  const fields = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : ''
  return `${time} ${level} ${String(entry.msg ?? '')}${fields}\n`
}

/**
 * The daemon's logger: pino JSON lines on stdout, or {@link prettyLine}s when `pretty` is true (or `auto` and
 * stdout is a terminal). Passwords and tokens anywhere in logged objects are redacted.
 */
export function createLogger(options: {
  level: string
  pretty: boolean | 'auto'
  destination?: NodeJS.WritableStream
}): Logger {
  const out = options.destination ?? process.stdout
  const pretty = options.pretty === 'auto' ? Boolean((out as { isTTY?: boolean }).isTTY) : options.pretty
  const destination: DestinationStream = pretty
    ? { write: (line: string) => void out.write(prettyLine(line)) }
    : { write: (line: string) => void out.write(line) }
  return pino(
    {
      level: options.level,
      base: undefined,
      redact: { paths: ['password', '*.password', 'token', '*.token', 'username', '*.username'], censor: '***' },
    },
    destination,
  )
}

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

/** Field names whose values are never logged, at any depth: `password`, `mqtt.token`, `client_secret`, ... */
const SECRET_FIELD =
  /^(password|passwd|passphrase|username|token|secret|authorization|api_?key|[a-z_]*(_secret|_token|_password))$/i

/** `scheme://user:password@` in any text: the password part. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*):[^\s@/]*@/gi

/** How deep redaction looks into logged objects; deeper parts are replaced, not logged unchecked. */
const MAX_DEPTH = 8

/**
 * `text` with the password of every URL in it replaced by `***`.
 *
 * @example
 * redactSecretsIn('cannot reach redis://default:hunter2@pi:6379') // 'cannot reach redis://default:***@pi:6379'
 */
export function redactSecretsIn(text: string): string {
  return text.includes('://') ? text.replace(URL_PASSWORD, '$1:***@') : text
}

/**
 * A copy of `value` that is safe to log: secret fields and URL passwords replaced, errors turned into plain
 * `{ type, message, stack, ... }` objects, and the arguments of an error's attached command (ioredis puts
 * `{ name: 'hello', args: ['3', 'AUTH', 'default', <password>] }` on a failed AUTH) replaced by their count.
 * The value itself is left as it was.
 */
export function redactForLog(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactSecretsIn(value)
  if (value === null || typeof value !== 'object') return value
  if (Buffer.isBuffer(value) || value instanceof Date) return value
  if (seen.has(value)) return '[Circular]'
  if (depth >= MAX_DEPTH) return '[too deep to log]'
  seen.add(value)
  try {
    if (Array.isArray(value)) return value.map((item) => redactForLog(item, depth + 1, seen))
    const out: Record<string, unknown> = {}
    if (value instanceof Error) {
      out.type = value.name
      out.message = redactSecretsIn(value.message)
      if (value.stack !== undefined) out.stack = redactSecretsIn(value.stack)
      if (value.cause !== undefined) out.cause = redactForLog(value.cause, depth + 1, seen)
    }
    for (const [key, item] of Object.entries(value)) {
      if (key in out) continue
      if (SECRET_FIELD.test(key)) out[key] = '***'
      else if (key === 'command' && isCommand(item)) out[key] = { name: item.name, args: argumentsRedacted(item.args) }
      else out[key] = redactForLog(item, depth + 1, seen)
    }
    return out
  } finally {
    seen.delete(value)
  }
}

/** A database command as clients attach it to their errors: ioredis's `{ name, args }`. */
function isCommand(value: unknown): value is { name: unknown; args: unknown } {
  return value !== null && typeof value === 'object' && 'name' in value && 'args' in value
}

function argumentsRedacted(args: unknown): string {
  const count = Array.isArray(args) ? args.length : 0
  return `[${count} argument${count === 1 ? '' : 's'} redacted]`
}

/**
 * The daemon's logger: pino JSON lines on stdout, or {@link prettyLine}s when `pretty` is true (or `auto` and
 * stdout is a terminal). Every logged object, child binding and message goes through {@link redactForLog}, so a
 * secret is redacted however it got there (a field, a URL, an error's message or attached command).
 */
export function createLogger(options: {
  level: string
  pretty: boolean | 'auto'
  destination?: NodeJS.WritableStream
  /**
   * Write lines at the end of the event loop's turn, together (see {@link batchedLines}). Default: true on
   * stdout (the daemon), false for a given destination (tests read theirs as it is written).
   */
  batch?: boolean
}): Logger {
  const out = options.destination ?? process.stdout
  const pretty = options.pretty === 'auto' ? Boolean((out as { isTTY?: boolean }).isTTY) : options.pretty
  const format = pretty ? prettyLine : (line: string) => line
  const destination: DestinationStream =
    (options.batch ?? options.destination === undefined)
      ? batchedLines((text) => void out.write(text), format)
      : { write: (line: string) => void out.write(format(line)) }
  const logger = pino(
    {
      level: options.level,
      base: undefined,
      formatters: {
        log: (object) => redactForLog(object) as Record<string, unknown>,
      },
      // pino's own err serializer would rebuild the already redacted error object and lose its type.
      serializers: { err: (value: unknown) => value },
      hooks: {
        logMethod(args, method) {
          const safe = args.map((arg) => (typeof arg === 'string' ? redactSecretsIn(arg) : arg))
          method.apply(this, safe as Parameters<typeof method>)
        },
      },
    },
    destination,
  )
  // pino skips the bindings formatter for children (for speed): a child's bindings are redacted here. Children
  // are made with Object.create(parent), so they all inherit this `child`.
  const child = logger.child
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, redactForLog(bindings) as typeof bindings, options)
  } as Logger['child']
  return logger
}

/** The batches with lines not yet written, written at process exit (see {@link batchedLines}). */
const unwritten = new Set<() => void>()
let flushAtExit = false

/**
 * A pino destination that keeps the lines logged during one turn of the event loop and writes them, in order, as
 * one chunk once the turn is over (setImmediate). Why: stdout is a pipe under Docker and systemd, and Node writes
 * to a pipe synchronously, tens of µs a line; a trigger logs `triggered by` and `got the lock` before its bulb
 * command is written, so the command waited behind two syscalls (pino itself recommends asynchronous logging for
 * the same reason). Batched, the command leaves first and a turn's lines cost one write. Lines still pending
 * when the process exits (process.exit, an uncaught exception) are written then; only a SIGKILL can lose the
 * lines of the turn it interrupts. `flush` (pino's `logger.flush()`) writes them at once. `format` (the pretty
 * lines) runs as they are written, off the logging call too.
 */
export function batchedLines(
  write: (text: string) => void,
  format: (line: string) => string = (line) => line,
): DestinationStream & { flush(done?: () => void): void } {
  let lines: string[] = []
  let due: NodeJS.Immediate | undefined
  const flush = () => {
    clearImmediate(due)
    due = undefined
    unwritten.delete(flush)
    if (lines.length === 0) return
    const text = lines.length === 1 ? format(lines[0]!) : lines.map(format).join('')
    lines = []
    write(text)
  }
  if (!flushAtExit) {
    flushAtExit = true
    process.once('exit', () => unwritten.forEach((pending) => pending()))
  }
  return {
    write(line: string) {
      lines.push(line)
      if (due) return
      due = setImmediate(flush)
      unwritten.add(flush)
    },
    flush(done?: () => void) {
      flush()
      done?.()
    },
  }
}

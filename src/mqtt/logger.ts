/** The slice of a pino logger that src/mqtt logs through; pino's `Logger` fits it. */
export interface MqttLogger {
  debug(fields: object, message?: string): void
  info(fields: object, message?: string): void
  warn(fields: object, message?: string): void
  error(fields: object, message?: string): void
}

/** A logger that drops everything, for callers that pass none. */
export const silentLogger: MqttLogger = { debug() {}, info() {}, warn() {}, error() {} }

/**
 * `url` with any password in it replaced by `***`, for logs and errors.
 *
 * @example
 * redactUrl('mqtts://ha:secret@broker:8883') // 'mqtts://ha:***@broker:8883'
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString().replace(/\/$/, url.endsWith('/') ? '/' : '')
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
  }
}

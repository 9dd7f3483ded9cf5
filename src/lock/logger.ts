/** Where a protocol reports trouble it survives (listener errors, reconnects, failed renewals). pino fits. */
export interface LockLogger {
  warn(details: object, message: string): void
  error?(details: object, message: string): void
  debug?(details: object, message: string): void
}

/** Used when no logger is passed: stderr. A protocol never lets a listener's error end the process. */
export const consoleLockLogger: LockLogger = {
  warn: (details, message) => console.warn(message, details),
  error: (details, message) => console.error(message, details),
}

/**
 * The one policy for errors thrown (or promises rejected) by listeners the lock calls: log them with what the
 * listener was told, at error level, and carry on. A broken logger or recovery handler never breaks locking,
 * and never ends the daemon.
 */
export function reportListenerError(logger: LockLogger, error: unknown, context: object, what: string): void {
  const details = { ...context, err: error }
  const message = `genlock: a ${what} listener failed`
  try {
    if (logger.error) logger.error(details, message)
    else logger.warn(details, message)
  } catch {
    // The logger itself threw: there is nowhere left to report to, and locking must go on.
  }
}

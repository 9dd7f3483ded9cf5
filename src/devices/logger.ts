/** The slice of a pino logger the device layer uses; pass a pino logger (or a child of one) as is. */
export interface DeviceLogger {
  debug(object: object, message?: string): void
  info(object: object, message?: string): void
  warn(object: object, message?: string): void
  error(object: object, message?: string): void
}

/** A logger that drops everything, for when none is given. */
export const silentLogger: DeviceLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
}

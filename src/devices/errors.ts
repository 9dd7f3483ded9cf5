/**
 * Errors a bulb command can end with. Each names the device the way a user recognises it:
 * `bath_bulb (kasa 192.168.1.40)`.
 */

/** Base class: `device` is the bulb's description, e.g. `bath_bulb (kasa 192.168.1.40)`. */
export class DeviceError extends Error {
  override name = 'DeviceError'

  constructor(
    readonly device: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${device} ${message}`, options)
  }
}

/** The bulb did not answer a command within its timeout (after every retry). */
export class DeviceTimeoutError extends DeviceError {
  override name = 'DeviceTimeoutError'

  constructor(
    device: string,
    readonly timeoutMs: number,
    readonly attempts = 1,
  ) {
    super(device, `did not answer within ${timeoutMs} ms${attempts > 1 ? ` (${attempts} attempts)` : ''}`)
  }
}

/** The bulb cannot be reached (connection refused, reported offline, gone from the bridge). */
export class DeviceUnreachableError extends DeviceError {
  override name = 'DeviceUnreachableError'

  constructor(device: string, reason: string, options?: { cause?: unknown }) {
    super(device, `is unreachable: ${reason}`, options)
  }
}

/** The bulb was asked for something it cannot do (and there is no documented fallback). */
export class UnsupportedCommandError extends DeviceError {
  override name = 'UnsupportedCommandError'
}

/** The bulb (or its bridge) refused a command; the adapter's reason is in the message. */
export class DeviceCommandError extends DeviceError {
  override name = 'DeviceCommandError'
}

/**
 * A failure worth retrying: a dropped connection, a busy bridge, a flaky radio. Adapters wrap such errors in
 * it (or mark them with {@link isTransientError}'s rules) so the command queue retries with backoff.
 */
export class TransientDeviceError extends DeviceError {
  override name = 'TransientDeviceError'
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
])

/** Whether the command queue should retry after `error`: timeouts, transient errors and socket-level failures. */
export function isTransientError(error: unknown): boolean {
  if (error instanceof DeviceTimeoutError || error instanceof TransientDeviceError) return true
  if (error instanceof DeviceError) return false
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && TRANSIENT_CODES.has(code)
}

/** Whether `error` means the bulb is not there at all (so its availability should flip to offline). */
export function isUnreachableError(error: unknown): boolean {
  if (error instanceof DeviceTimeoutError || error instanceof DeviceUnreachableError) return true
  if (error instanceof TransientDeviceError) return true
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && TRANSIENT_CODES.has(code)
}

/** The command itself is malformed (brightness 140, both `color` and `colorTemp`, an unknown colour name). */
export class InvalidCommandError extends DeviceError {
  override name = 'InvalidCommandError'
}

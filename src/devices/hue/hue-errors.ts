import { DeviceCommandError, DeviceError, DeviceUnreachableError, TransientDeviceError } from '../errors.js'
import { BridgeCertificateError, BridgeHttpError } from './bridge-https.js'
import { hueErrorType } from './clip-v1.js'

const NETWORK = /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EAI_AGAIN|socket hang up|timeout|aborted/i

/**
 * A bridge, TLS or node-hue-api error as one of ours, naming `device` and never the application key (`secret`):
 * busy bridges and network failures are transient (retried), an unreachable lamp is reported at once, a refused
 * key or certificate says what to check.
 */
export function hueDeviceError(error: unknown, device: string, secret: string): Error {
  if (error instanceof DeviceError) return error
  const raw = String((error as { message?: unknown } | null)?.message ?? error)
  const message = raw.split(secret).join('<username>')
  if (error instanceof BridgeCertificateError) {
    return new DeviceCommandError(
      device,
      `does not present a Hue bridge certificate (${message}). A bridge's is signed by the Hue bridge root CA ` +
        'and names the bridge id: check host. For genlock sim hue, give its CA file as ca:; for an emulator ' +
        'without HTTPS, set insecure: true (CLIP v1)',
    )
  }
  if (error instanceof BridgeHttpError) {
    // 207: the bridge took the command but says the lamp "may not" get it (no power, out of range).
    if (error.status === 207) return new DeviceUnreachableError(device, 'the bridge cannot reach the lamp')
    if (error.status === 429 || error.status >= 500)
      return new TransientDeviceError(device, `the bridge is busy (HTTP ${error.status})`)
    if (error.status === 401 || error.status === 403)
      return new DeviceCommandError(device, 'the bridge refused the application key (check HUE_USERNAME)')
    return new DeviceCommandError(device, `the bridge refused the command: ${message}`)
  }
  const type = hueErrorType(error)
  if (NETWORK.test(message)) return new TransientDeviceError(device, `cannot reach the bridge: ${message}`)
  if (type >= 500) return new TransientDeviceError(device, `the bridge is busy (${message})`)
  if (type === 201 || /not reachable/i.test(message))
    return new DeviceUnreachableError(device, 'the bridge says the light is not reachable')
  if (type === 1 || /unauthori[sz]ed user/i.test(message))
    return new DeviceCommandError(device, 'the bridge refused the username (check the username / HUE_USERNAME)')
  return new DeviceCommandError(device, `the bridge refused the command: ${message}`)
}

import type { LightState, LightStateInput } from 'tplink-smarthome-api/lib/bulb/lighting.js'
import { DeviceCommandError } from '../errors.js'
import { KlapTransport, type KlapTransportOptions } from './klap-transport.js'
import { tplinkApi } from './tplink-api.js'

/** A Kasa bulb's lighting service over one of its two local protocols. */
export interface KasaLighting {
  /** `legacy` (XOR on port 9999) or `klap` (HTTP, newer firmware). */
  readonly protocol: 'legacy' | 'klap'
  getLightState(signal: AbortSignal): Promise<LightState>
  setLightState(state: LightStateInput, signal: AbortSignal): Promise<void>
  close(): void
}

export interface LegacyLightingOptions {
  readonly host: string
  readonly port: number
  readonly transport: 'tcp' | 'udp'
  /** The library's own timeout, ms: a backstop behind the command queue's. */
  readonly timeoutMs: number
  readonly device: string
}

/** The legacy protocol, through tplink-smarthome-api: asks the device what it is, and refuses anything but a bulb. */
export async function openLegacyLighting(options: LegacyLightingOptions): Promise<KasaLighting> {
  const sendOptions = { timeout: options.timeoutMs, transport: options.transport }
  const { Client } = tplinkApi()
  const client = new Client({ logLevel: 'silent', defaultSendOptions: sendOptions })
  const device = await client.getDevice({ host: options.host, port: options.port })
  if (!('lighting' in device)) {
    throw new DeviceCommandError(options.device, `is a Kasa ${device.deviceType}, not a bulb`)
  }
  return {
    protocol: 'legacy',
    getLightState: () => device.lighting.getLightState(sendOptions),
    setLightState: async (state) => {
      await device.lighting.setLightState(state, sendOptions)
    },
    close: () => device.closeConnection(),
  }
}

const LIGHTING = 'smartlife.iot.smartbulb.lightingservice'

/**
 * The same lighting requests over KLAP. The JSON is the legacy protocol's (python-kasa's IotProtocol speaks it over
 * both), so answers carry `err_code` the same way.
 */
export async function openKlapLighting(options: KlapTransportOptions, signal: AbortSignal): Promise<KasaLighting> {
  const transport = new KlapTransport(options)
  try {
    const sysinfo = answerOf(await transport.send({ system: { get_sysinfo: {} } }, signal), 'system', 'get_sysinfo')
    const type = String(sysinfo.mic_type ?? sysinfo.type ?? 'device')
    if (!/SMARTBULB/i.test(type)) throw new DeviceCommandError(options.device, `is a Kasa ${type}, not a bulb`)
  } catch (error) {
    transport.close()
    throw error
  }
  const call = async (method: string, args: object, signal: AbortSignal) =>
    answerOf(await transport.send({ [LIGHTING]: { [method]: args } }, signal), LIGHTING, method)
  return {
    protocol: 'klap',
    getLightState: async (signal) => (await call('get_light_state', {}, signal)) as unknown as LightState,
    setLightState: async (state, signal) => {
      // As tplink-smarthome-api sends it: the state given, not merged with the bulb's default-on state.
      await call('transition_light_state', { ignore_default: 1, ...state }, signal)
    },
    close: () => transport.close(),
  }

  /** The method's answer in a Kasa JSON response; a non-zero err_code (module or method) is the device refusing. */
  function answerOf(response: Record<string, unknown>, module: string, method: string): Record<string, unknown> {
    const moduleAnswer = response[module] as Record<string, unknown> | undefined
    const answer = (moduleAnswer?.[method] ?? moduleAnswer) as Record<string, unknown> | undefined
    const code = answer?.err_code
    if (!answer || code !== 0) {
      const why = answer?.err_msg ? `${String(answer.err_msg)} (err_code ${String(code)})` : `err_code ${String(code)}`
      throw new DeviceCommandError(options.device, `refused ${module}.${method}: ${why}`)
    }
    return answer
  }
}

/**
 * CLIP v1 through node-hue-api, for bridges whose software predates CLIP v2 and for plain-HTTP bridges
 * (`insecure: true`: emulators, the round v1 bridge). node-hue-api is CommonJS and loaded on first use.
 */
import type { Agent } from 'node:https'
import { createRequire } from 'node:module'
import type { HueLightStateBody, HueLightStateReport } from './hue-state.js'

interface XyPair {
  x: number
  y: number
}

/** The part of node-hue-api's v3 `lights` API we use, typed here so the adapter does not lean on its d.ts. */
export interface V1LightsApi {
  getLight(
    id: number,
  ): Promise<{ state: HueLightStateReport; colorGamut: { red: XyPair; green: XyPair; blue: XyPair } | null }>
  setLightState(id: number, state: HueLightStateBody): Promise<boolean>
}

/** node-hue-api's error type, when it is one: a Hue error type (1 unauthorised, 201 not reachable …). */
export function hueErrorType(error: unknown): number {
  return (error as { getHueErrorType?: () => number } | null)?.getHueErrorType?.() ?? -1
}

/** Plain HTTP, through node-hue-api's own insecure bootstrap. */
export async function openInsecureV1(host: string, port: number, username: string): Promise<V1LightsApi> {
  // node-hue-api prints its own warning to stdout, past any logger, unless this is set before it loads.
  process.env.NODE_HUE_API_USE_INSECURE_CONNECTION ??= '1'
  const { v3 } = await loadNodeHueApi()
  const api = (await v3.api.createInsecureLocal(host, port).connect(username)) as { lights: V1LightsApi }
  return api.lights
}

/**
 * HTTPS through node-hue-api's Api over our verified agent. Its own `createLocal` turns chain verification off
 * and checks the certificate's name on port 443 only, whatever the bridge's port; so we build its Api and
 * Transport (public classes of its CommonJS build) with an axios instance that uses our agent instead.
 */
export function openVerifiedV1(
  host: string,
  port: number,
  username: string,
  agent: Agent,
  timeoutMs: number,
): V1LightsApi {
  const requireHere = createRequire(import.meta.url)
  const requireHue = createRequire(requireHere.resolve('node-hue-api'))
  const Api = requireHue('./lib/api/Api.js') as new (config: object, transport: unknown) => { lights: V1LightsApi }
  const Transport = requireHue('./lib/api/http/Transport.js') as new (username: string, axios: unknown) => unknown
  const axios = requireHue('axios') as { create(options: object): unknown }
  const baseUrl = `https://${host.includes(':') ? `[${host}]` : host}:${port}/api`
  const http = axios.create({ baseURL: baseUrl, httpsAgent: agent, timeout: timeoutMs })
  return new Api({ remote: false, baseUrl, username, clientkey: undefined }, new Transport(username, http)).lights
}

interface NodeHueApi {
  v3: {
    api: {
      createInsecureLocal(host: string, port?: number): { connect(username?: string): Promise<unknown> }
      createLocal(host: string, port?: number): { connect(username?: string): Promise<unknown> }
    }
  }
}

/** node-hue-api as plain Node's ESM loader gives a CommonJS module: everything on `default`. */
export async function loadNodeHueApi(): Promise<NodeHueApi> {
  const module = (await import('node-hue-api')) as unknown as { default?: NodeHueApi } & Partial<NodeHueApi>
  return module.default ?? (module as NodeHueApi)
}

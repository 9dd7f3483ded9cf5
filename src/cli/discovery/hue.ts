import { createSocket, type RemoteInfo } from 'node:dgram'
import { decodeMessage, encodeQuery, TYPE } from '../../net/dns.js'

/** One Hue bridge that answered a search. */
export interface FoundHueBridge {
  readonly id: string
  readonly name: string
  readonly host: string
  /** Set when the bridge is not on port 80 (simulators, emulators). */
  readonly port?: number
}

/** The SSDP multicast address and port (UPnP): bridges before 2021 answer here. */
export const SSDP_ADDRESS = '239.255.255.250:1900'
/** The mDNS multicast address and port: current bridges announce `_hue._tcp.local` here. */
export const MDNS_ADDRESS = '224.0.0.251:5353'
/** The mDNS service bridges announce. */
export const HUE_SERVICE = '_hue._tcp.local'

const SSDP_SEARCH = (target: string) =>
  ['M-SEARCH * HTTP/1.1', `HOST: ${target}`, 'MAN: "ssdp:discover"', 'MX: 2', 'ST: upnp:rootdevice', '', ''].join(
    '\r\n',
  )

/** `host:port` → parts. */
function split(target: string): { host: string; port: number } {
  const at = target.lastIndexOf(':')
  return { host: target.slice(0, at), port: Number(target.slice(at + 1)) }
}

/**
 * Sends `payload` to `target` (twice, as UDP may drop one) from a fresh socket and hands every answer to `answer`
 * for `timeoutMs`. The answers come back to the socket's own port (a "legacy unicast" query, for mDNS).
 */
async function ask(
  target: string,
  payload: Buffer | string,
  timeoutMs: number,
  answer: (message: Buffer, from: RemoteInfo) => void,
): Promise<void> {
  const { host, port } = split(target)
  const socket = createSocket({ type: 'udp4' })
  socket.on('message', answer)
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (error) => reject(new Error(`Hue discovery via ${target} failed: ${error.message}`)))
    socket.bind(0, () => resolve())
  })
  socket.on('error', () => undefined)
  socket.send(payload, port, host)
  setTimeout(() => socket.send(payload, port, host), Math.min(500, timeoutMs / 2)).unref()
  await new Promise((resolve) => setTimeout(resolve, timeoutMs))
  socket.close()
}

/** The bridge whose HTTP API is at `base` (e.g. http://10.0.0.5), if `/api/config` there says it is one. */
async function confirm(base: string): Promise<FoundHueBridge | undefined> {
  try {
    const url = new URL(base)
    const response = await fetch(new URL('/api/config', url), { signal: AbortSignal.timeout(2000) })
    const config = (await response.json()) as { bridgeid?: unknown; name?: unknown }
    if (typeof config.bridgeid !== 'string') return undefined
    const port = url.port === '' || url.port === '80' ? undefined : Number(url.port)
    return {
      id: config.bridgeid,
      name: typeof config.name === 'string' ? config.name : 'Hue bridge',
      host: url.hostname,
      ...(port === undefined ? {} : { port }),
    }
  } catch {
    return undefined
  }
}

/** The HTTP base URL an SSDP answer points at, when it comes from a Hue bridge. */
export function ssdpAnswerBase(message: Buffer): string | undefined {
  const headers = new Map<string, string>()
  for (const line of message.toString('utf8').split('\r\n').slice(1)) {
    const at = line.indexOf(':')
    if (at > 0) headers.set(line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim())
  }
  const location = headers.get('location')
  if (!headers.get('hue-bridgeid') || !location) return undefined
  try {
    return new URL(location).origin
  } catch {
    return undefined
  }
}

/**
 * The HTTP base URL an mDNS answer for `_hue._tcp.local` points at: the SRV target's A record (or the sender),
 * on port 80 when the SRV names 443 (a real bridge's HTTPS port; its `/api/config` is on plain HTTP), else the
 * SRV port (simulators).
 */
export function mdnsAnswerBase(message: Buffer, from: RemoteInfo): string | undefined {
  let decoded
  try {
    decoded = decodeMessage(message)
  } catch {
    return undefined
  }
  if (!decoded.response) return undefined
  const records = decoded.records
  const instance = records.find((record) => record.type === TYPE.PTR && record.name === HUE_SERVICE)
  if (!instance || instance.data.kind !== 'ptr') return undefined
  const instanceName = instance.data.target
  const srv = records.find((record) => record.type === TYPE.SRV && record.name === instanceName)
  const target = srv?.data.kind === 'srv' ? srv.data.target : undefined
  const a = records.find((record) => record.type === TYPE.A && record.name === target)
  const address = a?.data.kind === 'a' ? a.data.address : from.address
  const srvPort = srv?.data.kind === 'srv' ? srv.data.port : 443
  return `http://${address}${srvPort === 443 || srvPort === 80 ? '' : `:${srvPort}`}`
}

/**
 * Hue bridges by mDNS (`_hue._tcp.local`, current bridges) and SSDP (older ones), each confirmed with
 * `GET /api/config`. Calls `found` as each bridge is confirmed.
 */
export async function discoverHue(options: {
  ssdp: string
  mdns: string
  timeoutMs: number
  found?: (bridge: FoundHueBridge) => void
}): Promise<FoundHueBridge[]> {
  const bridges = new Map<string, FoundHueBridge>()
  const asked = new Set<string>()
  const checks: Promise<void>[] = []
  const check = (base: string | undefined) => {
    if (!base || asked.has(base)) return
    asked.add(base)
    checks.push(
      confirm(base).then((bridge) => {
        if (!bridge || bridges.has(bridge.id)) return
        bridges.set(bridge.id, bridge)
        options.found?.(bridge)
      }),
    )
  }
  await Promise.all([
    ask(options.ssdp, SSDP_SEARCH(options.ssdp), options.timeoutMs, (message) => check(ssdpAnswerBase(message))),
    ask(options.mdns, encodeQuery(HUE_SERVICE, TYPE.PTR), options.timeoutMs, (message, from) =>
      check(mdnsAnswerBase(message, from)),
    ),
  ])
  await Promise.allSettled(checks)
  return [...bridges.values()]
}

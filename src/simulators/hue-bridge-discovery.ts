/** How a simulated Hue bridge answers the searches `genlock discover` sends: SSDP (older bridges) and mDNS. */
import { decodeMessage, encodeResponse, TYPE } from '../net/dns.js'

/** The bridge as a search answer names it. */
export interface SearchedBridge {
  /** Its plain-HTTP base URL. */
  readonly url: string
  readonly host: string
  readonly port: number
  readonly bridgeId: string
}

/**
 * The answer to an SSDP M-SEARCH (with the `hue-bridgeid` header bridges send), or to an mDNS query for
 * `_hue._tcp.local` (PTR, SRV, TXT and A records); undefined for anything else, junk included.
 */
export function searchAnswer(message: Buffer, bridge: SearchedBridge): Buffer | string | undefined {
  if (message.subarray(0, 8).toString('latin1') === 'M-SEARCH') {
    return [
      'HTTP/1.1 200 OK',
      'CACHE-CONTROL: max-age=100',
      'EXT:',
      `LOCATION: ${bridge.url}/description.xml`,
      'SERVER: Linux/3.14.0 UPnP/1.0 IpBridge/1.50.0',
      `hue-bridgeid: ${bridge.bridgeId}`,
      'ST: upnp:rootdevice',
      `USN: uuid:2f402f80-da50-11e1-9b23-${bridge.bridgeId.slice(-12).toLowerCase()}::upnp:rootdevice`,
      '',
      '',
    ].join('\r\n')
  }
  let query
  try {
    query = decodeMessage(message)
  } catch {
    return undefined
  }
  const service = '_hue._tcp.local'
  if (query.response || !query.questions.some((q) => q.name === service && q.type === TYPE.PTR)) return undefined
  const instance = `genlock simulated bridge - ${bridge.bridgeId.slice(-6)}.${service}`
  const target = `${bridge.bridgeId.toLowerCase()}.local`
  return encodeResponse([
    { name: service, type: TYPE.PTR, ttl: 120, data: { kind: 'ptr', target: instance } },
    { name: instance, type: TYPE.SRV, ttl: 120, data: { kind: 'srv', port: bridge.port, target } },
    {
      name: instance,
      type: TYPE.TXT,
      ttl: 120,
      data: { kind: 'txt', entries: [`bridgeid=${bridge.bridgeId.toLowerCase()}`, 'modelid=BSB002'] },
    },
    { name: target, type: TYPE.A, ttl: 120, data: { kind: 'a', address: bridge.host } },
  ])
}

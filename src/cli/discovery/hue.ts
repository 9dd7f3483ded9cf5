import { createSocket } from 'node:dgram'

/** One Hue bridge that answered an SSDP search. */
export interface FoundHueBridge {
  readonly id: string
  readonly name: string
  readonly host: string
  /** Set when the bridge is not on port 80 (simulators, emulators). */
  readonly port?: number
}

/** The SSDP multicast address and port (UPnP). */
export const SSDP_ADDRESS = '239.255.255.250:1900'

/**
 * Hue bridges by SSDP: an M-SEARCH to `target` (host:port), answers carrying `hue-bridgeid`, each confirmed with
 * `GET /api/config` on the LOCATION it names. Calls `found` as each bridge is confirmed.
 */
export async function discoverHue(options: {
  target: string
  timeoutMs: number
  found?: (bridge: FoundHueBridge) => void
}): Promise<FoundHueBridge[]> {
  const [host, portText] = options.target.split(/:(?=\d+$)/)
  const port = Number(portText ?? 1900)
  const socket = createSocket({ type: 'udp4' })
  const bridges = new Map<string, FoundHueBridge>()
  const checks: Promise<void>[] = []
  const search = [
    'M-SEARCH * HTTP/1.1',
    `HOST: ${options.target}`,
    'MAN: "ssdp:discover"',
    'MX: 2',
    'ST: upnp:rootdevice',
    '',
    '',
  ].join('\r\n')
  socket.on('message', (message) => {
    const headers = new Map<string, string>()
    for (const line of message.toString('utf8').split('\r\n').slice(1)) {
      const at = line.indexOf(':')
      if (at > 0) headers.set(line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim())
    }
    const id = headers.get('hue-bridgeid')
    const location = headers.get('location')
    if (!id || !location || bridges.has(id)) return
    checks.push(
      confirm(location).then((bridge) => {
        if (!bridge || bridges.has(bridge.id)) return
        bridges.set(bridge.id, bridge)
        options.found?.(bridge)
      }),
    )
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (error) => reject(new Error(`Hue discovery failed: ${error.message}`)))
    socket.bind(0, () => resolve())
  })
  // Twice, as UDP may drop one; bridges answer each.
  socket.send(search, port, host)
  setTimeout(() => socket.send(search, port, host), Math.min(500, options.timeoutMs / 2)).unref()
  await new Promise((resolve) => setTimeout(resolve, options.timeoutMs))
  socket.close()
  await Promise.allSettled(checks)
  return [...bridges.values()]
}

/** The bridge at `location` (its description URL), if `/api/config` there says it is one. */
async function confirm(location: string): Promise<FoundHueBridge | undefined> {
  try {
    const url = new URL(location)
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

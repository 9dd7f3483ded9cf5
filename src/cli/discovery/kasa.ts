import { tplinkApi } from '../../devices/kasa/tplink-api.js'

/** One Kasa device that answered discovery. */
export interface FoundKasaDevice {
  readonly kind: 'bulb' | 'plug'
  readonly alias: string
  readonly model: string
  readonly host: string
  readonly port: number
  readonly mac: string
}

/** What tplink-smarthome-api's discovered devices give us. */
interface DiscoveredDevice {
  readonly alias: string
  readonly model: string
  readonly host: string
  readonly port: number
  readonly mac: string
}

/**
 * Kasa discovery: the encrypted `get_sysinfo` UDP packet to `broadcast` (port 9999, and also `port` when it is
 * another one, as simulators use), for `timeoutMs`. Calls `found` as each device answers; resolves with them all.
 */
export async function discoverKasa(options: {
  broadcast: string
  port: number
  timeoutMs: number
  found?: (device: FoundKasaDevice) => void
}): Promise<FoundKasaDevice[]> {
  const { Client } = tplinkApi()
  const client = new Client({ logLevel: 'silent' })
  const devices = new Map<string, FoundKasaDevice>()
  const add = (kind: 'bulb' | 'plug') => (device: DiscoveredDevice) => {
    const entry = {
      kind,
      alias: device.alias,
      model: device.model,
      host: device.host,
      port: device.port,
      mac: device.mac,
    }
    const key = `${entry.host}:${entry.port}`
    if (devices.has(key)) return
    devices.set(key, entry)
    options.found?.(entry)
  }
  return new Promise((resolve, reject) => {
    client.on('bulb-new', add('bulb'))
    client.on('plug-new', add('plug'))
    client.once('error', (error: Error) => {
      client.stopDiscovery()
      reject(new Error(`Kasa discovery failed: ${error.message}`))
    })
    client.startDiscovery({
      broadcast: options.broadcast,
      discoveryInterval: 1000,
      devicesUseDiscoveryPort: true,
      breakoutChildren: false,
      devices: options.port === 9999 ? [] : [{ host: options.broadcast, port: options.port }],
    })
    setTimeout(() => {
      client.stopDiscovery()
      resolve([...devices.values()])
    }, options.timeoutMs)
  })
}

import { createSocket, type Socket } from 'node:dgram'

/** The default port Kasa bulbs answer discovery (UDP) and commands (TCP) on. */
export const KASA_PORT = 9999

/** One simulated Kasa bulb. */
export interface SimulatedKasaBulb {
  readonly alias: string
  readonly model: string
  readonly host: string
  /** TCP (and UDP) port of this bulb. */
  readonly port: number
  readonly mac: string
}

export interface KasaSimulatorOptions {
  /** Default 127.0.0.1. */
  readonly host?: string
  /**
   * The discovery port (UDP) genlock discover and the Kasa app send to; bulbs take the ports after it. Default
   * 9999; 0 puts everything on free ports.
   */
  readonly port?: number
  /** Number of bulbs. Default 2. */
  readonly count?: number
}

/** What the simulator needs of tplink-smarthome-simulator's Device. */
interface SimulatorDevice {
  readonly port: number
  start(): Promise<unknown>
  stop(): Promise<unknown>
  readonly deviceNetworking: { on(event: 'data', listener: (data: { message: string }) => void): void }
}

/**
 * Kasa bulbs on the network, through tplink-smarthome-simulator: colour LB130s and tunable-white LB120s, each on
 * its own port, plus a discovery responder on `port` that hands every discovery packet to all of them (so one
 * `genlock discover` finds them all, as a broadcast would).
 *
 * @example
 * const sim = await KasaSimulator.start({ port: 0, count: 3 })
 * sim.bulbs[0] // { alias: 'Kasa bulb 1', host: '127.0.0.1', port: 40123, ... }
 */
export class KasaSimulator {
  private constructor(
    readonly bulbs: readonly SimulatedKasaBulb[],
    readonly discoveryPort: number,
    private readonly devices: readonly SimulatorDevice[],
    private readonly discovery: Socket,
  ) {}

  static async start(options: KasaSimulatorOptions = {}): Promise<KasaSimulator> {
    let simulator: typeof import('tplink-smarthome-simulator')
    try {
      simulator = await import('tplink-smarthome-simulator')
    } catch {
      throw new Error(
        'simulating Kasa bulbs needs the tplink-smarthome-simulator package: npm install tplink-smarthome-simulator',
      )
    }
    const host = options.host ?? '127.0.0.1'
    const base = options.port ?? KASA_PORT
    const discovery = createSocket({ type: 'udp4' })
    await new Promise<void>((resolve, reject) => {
      discovery.once('error', (error: NodeJS.ErrnoException) =>
        reject(new Error(`cannot listen for Kasa discovery on udp ${host}:${base}: ${error.message}`)),
      )
      discovery.bind(base, host, () => resolve())
    })
    const discoveryPort = discovery.address().port
    const devices: SimulatorDevice[] = []
    const bulbs: SimulatedKasaBulb[] = []
    try {
      for (let n = 1; n <= (options.count ?? 2); n++) {
        const model = n % 2 === 1 ? 'lb130' : 'lb120'
        const mac = `50:c7:bf:00:${Math.floor(n / 256)
          .toString(16)
          .padStart(2, '0')}:${(n % 256).toString(16).padStart(2, '0')}`
        const alias = `Kasa bulb ${n}`
        const device = new simulator.Device({
          model,
          address: host,
          port: base === 0 ? 0 : base + n,
          data: { alias, mac },
        }) as unknown as SimulatorDevice
        await device.start().catch((error: Error) => {
          throw new Error(`cannot start Kasa bulb ${n} on ${host}:${base + n}: ${error.message}`)
        })
        devices.push(device)
        bulbs.push({ alias, model: model.toUpperCase(), host, port: device.port, mac })
      }
    } catch (error) {
      discovery.close()
      await Promise.allSettled(devices.map((device) => device.stop()))
      throw error
    }
    // Each simulated device also listens on the library's shared UDP server's events; feeding discovery packets
    // there makes every bulb answer from its own port, as bulbs on a LAN answer one broadcast.
    discovery.on('message', (message, from) => simulator.UdpServer.emit('message', message, from))
    return new KasaSimulator(bulbs, discoveryPort, devices, discovery)
  }

  /** Calls `listener` with every request a bulb receives (decrypted JSON text). */
  onRequest(listener: (bulb: SimulatedKasaBulb, message: string) => void): void {
    this.devices.forEach((device, i) =>
      device.deviceNetworking.on('data', ({ message }) => listener(this.bulbs[i]!, message)),
    )
  }

  async stop(): Promise<void> {
    this.discovery.close()
    await Promise.allSettled(this.devices.map((device) => device.stop()))
  }
}

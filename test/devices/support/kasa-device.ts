import { Device } from 'tplink-smarthome-simulator'

/**
 * Starts a simulated Kasa device on a free port. The simulator binds UDP on a kernel-chosen port and then TCP on
 * the same number, which another process may hold already (EADDRINUSE); then it simply tries a new port.
 */
export async function startKasaDevice(options: ConstructorParameters<typeof Device>[0]): Promise<Device> {
  for (let attempt = 1; ; attempt++) {
    const device = new Device(options)
    try {
      await device.start()
      return device
    } catch (error) {
      await device.stop().catch(() => {})
      if ((error as { code?: string }).code !== 'EADDRINUSE' || attempt >= 5) throw error
    }
  }
}

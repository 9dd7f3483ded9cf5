/**
 * What the automation layer knows of a device beyond its id, for checks at load time. A device file's config
 * (DeviceConfig from src/devices) fits as it is.
 */
export interface DeviceFacts {
  readonly id: string
  /** `sim`, `hue`, `kasa` or `mqtt`. */
  readonly adapter: string
  /** mqtt: the device's topic. */
  readonly topic?: string | undefined
  /** kasa: how often it is read, ms; 0 = never. */
  readonly poll?: number | undefined
  /** hue: plain HTTP, which drives the bridge through CLIP v1. */
  readonly insecure?: boolean | undefined
}

/**
 * Why genlock would not hear of a change made to `device` outside genlock (the app, a wall switch), or undefined
 * when it would. The one place this rule is written: a `state` trigger on such a device only sees genlock's own
 * commands.
 * - mqtt: the light publishes its state;
 * - hue: the bridge's event stream (CLIP v2); not over plain HTTP (`insecure: true`: CLIP v1 pushes nothing);
 * - kasa: read every `poll` (5 s by default); not with `poll: off`;
 * - sim: changes made to it (in `genlock simulate`) reach genlock as they happen.
 */
export function unseenChanges(device: DeviceFacts): string | undefined {
  switch (device.adapter) {
    case 'mqtt':
    case 'sim':
      return undefined
    case 'hue':
      return device.insecure === true
        ? 'it is a Hue light over plain HTTP (insecure: true), which gets no event stream from the bridge'
        : undefined
    case 'kasa':
      return device.poll === 0 ? 'it is a Kasa bulb with poll: off, so its state is never read' : undefined
    default:
      return `its adapter '${device.adapter}' does not report changes`
  }
}

/**
 * Whether a bulb of `adapter` takes brightness and colour while it is off, keeping them for the next time it is
 * switched on: `restore` then puts an off bulb's look back too. The one place this rule is written:
 * - sim: yes;
 * - kasa: yes (the bulb keeps the look in `dft_on_state`);
 * - hue: no (the bridge refuses `dimming` and colour for a light that is off);
 * - mqtt: no (a Zigbee2MQTT or Tasmota light given a brightness switches on).
 */
export function keepsLookWhileOff(adapter: string): boolean {
  return adapter === 'sim' || adapter === 'kasa'
}

import type { ConfigProblem } from '../config/problems.js'
import type { Bulb } from './bulb.js'
import type { DeviceDirectory } from './device-files.js'
import type { DeviceConfig } from './device-schema.js'
import { silentLogger, type DeviceLogger } from './logger.js'

/**
 * Builds the bulb a device config describes: `loadBulb` (or `createBulb`) for the real adapters,
 * `createSimulatedBulb` for twins. It may load the adapter's code first (a promise); a rejection leaves that device
 * out, as a throw does.
 */
export type BulbFactory = (config: DeviceConfig) => Bulb | Promise<Bulb>

/** What one {@link DeviceReconciler.apply} changed; a replaced device (its file changed) is in both lists. */
export interface DeviceChanges {
  readonly added: readonly string[]
  readonly removed: readonly string[]
}

export interface DeviceReconcilerOptions {
  readonly create: BulbFactory
  /**
   * Called for each new bulb before it starts (so no event of its start is missed); returns what to call when the
   * bulb goes away. The daemon forwards the bulb's events from here.
   */
  readonly follow?: ((id: string, bulb: Bulb) => () => void) | undefined
  readonly logger?: DeviceLogger | undefined
}

/**
 * The running bulbs, kept in line with the devices folder: a device whose file is new or changed is (re)built and
 * started, one whose file went away is stopped, and one whose file is broken now keeps running as it was (its last
 * good config) rather than vanishing from under the automations that use it.
 *
 * @example
 * const bulbs = new DeviceReconciler({ create: (config) => loadBulb(config, { mqtt: bus, logger }), logger })
 * await bulbs.apply(readDeviceDirectory(config.devicesDir))
 * bulbs.devices.get('bath_bulb')
 */
export class DeviceReconciler {
  private readonly bulbs = new Map<string, Bulb>()
  /** Device id → the config its bulb was built from, and the file that config came from. */
  private readonly sources = new Map<string, { config: DeviceConfig; file: string }>()
  private readonly unfollows = new Map<string, () => void>()
  /** The starts (first probes) still under way, by device id. */
  private readonly starting = new Map<string, Promise<void>>()
  private readonly logger: DeviceLogger

  constructor(private readonly options: DeviceReconcilerOptions) {
    this.logger = options.logger ?? silentLogger
  }

  /** The running bulbs by id; the same map object for the reconciler's whole life, always current. */
  get devices(): ReadonlyMap<string, Bulb> {
    return this.bulbs
  }

  /** Device id → the file the running bulb's config came from. */
  get files(): ReadonlyMap<string, string> {
    return new Map([...this.sources].map(([id, source]) => [id, source.file]))
  }

  /** The configs the running bulbs were built from. */
  get configs(): DeviceConfig[] {
    return [...this.sources.values()].map((source) => source.config)
  }

  /**
   * Brings the bulbs in line with what reading the devices folder found. A device that cannot be built or does
   * not start is logged; it never takes the others (or the daemon) down with it. New bulbs are started all at
   * once and not waited for (issue 13.12: four silent Hue addresses held start-up 8.4 s): each takes commands
   * from the moment it is built, its first probe goes on in the background, and {@link started} tells when every
   * start has settled.
   */
  async apply(directory: DeviceDirectory): Promise<DeviceChanges> {
    const wanted = new Map(directory.devices.map((device) => [device.config.id, device]))
    const wantedSources = new Map([...wanted].map(([id, device]) => [id, { config: device.config, file: device.file }]))
    const brokenFiles = new Set(directory.problems.map((problem: ConfigProblem) => problem.file))
    for (const [id, source] of this.sources) {
      if (!wantedSources.has(id) && brokenFiles.has(source.file)) wantedSources.set(id, source)
    }

    const removed: string[] = []
    for (const [id, bulb] of [...this.bulbs]) {
      const next = wantedSources.get(id)
      if (next && JSON.stringify(next.config) === JSON.stringify(this.sources.get(id)?.config)) {
        this.sources.set(id, next)
        continue
      }
      this.forget(id)
      removed.push(id)
      await bulb
        .stop()
        .catch((error: Error) => this.logger.warn({ device: id, err: error.message }, 'device stop failed'))
    }

    // Built all at once (an adapter's code may have to be loaded first), then taken in in the folder's order.
    const sources = [...wantedSources].filter(([id]) => !this.bulbs.has(id))
    const built = await Promise.all(
      sources.map(async ([id, source]) => {
        try {
          return await this.options.create(source.config)
        } catch (error) {
          this.logger.error({ device: id, err: (error as Error).message }, 'device cannot be created; left out')
          return undefined
        }
      }),
    )
    const added: string[] = []
    for (const [index, [id, source]] of sources.entries()) {
      const bulb = built[index]
      if (!bulb || this.bulbs.has(id)) continue
      this.bulbs.set(id, bulb)
      this.sources.set(id, source)
      const unfollow = this.options.follow?.(id, bulb)
      if (unfollow) this.unfollows.set(id, unfollow)
      added.push(id)
      const start = bulb
        .start()
        .catch((error: unknown) =>
          this.logger.error(
            { device: id, err: (error as Error).message },
            'device did not start; its steps fail until it answers',
          ),
        )
        .finally(() => {
          if (this.starting.get(id) === start) this.starting.delete(id)
        })
      this.starting.set(id, start)
    }
    return { added, removed }
  }

  /** Resolves once every bulb started so far has finished starting (its first probe answered or failed). */
  async started(): Promise<void> {
    await Promise.all(this.starting.values())
  }

  /** Stops every bulb (at daemon stop); failures are logged. */
  async stopAll(): Promise<void> {
    const bulbs = [...this.bulbs]
    for (const [id] of bulbs) this.forget(id)
    await Promise.all(
      bulbs.map(([id, bulb]) =>
        bulb.stop().catch((error: Error) => this.logger.warn({ device: id, err: error.message }, 'device stop failed')),
      ),
    )
  }

  private forget(id: string): void {
    this.bulbs.delete(id)
    this.sources.delete(id)
    this.unfollows.get(id)?.()
    this.unfollows.delete(id)
  }
}

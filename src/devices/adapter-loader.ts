/**
 * The daemon's way from a device config to a bulb: like `createBulb`, but each adapter's code (and its library:
 * node-hue-api, tplink-smarthome-api, node's https) is loaded the first time a device file names it, not at start.
 * A `genlock run` with sim bulbs only loads none of the Hue and Kasa modules (issue 18: they were a good part of
 * the start-up time and of the memory once ready).
 *
 * Device files are validated before this (device-schema.ts, with file, line and column), so a lazy load never
 * turns a config error into a late one; what can still fail here is loading the adapter's code itself (a broken
 * install), and that fails the devices of that kind only, with an error that names the adapter.
 */
import type { AdapterConfig, AdapterDeps } from './adapter-options.js'
import type { Bulb } from './bulb.js'
import type { DeviceConfig } from './device-schema.js'

type Kind = DeviceConfig['adapter']
type Create<K extends Kind> = (config: AdapterConfig<K>, deps: AdapterDeps) => Bulb
/** A `create` whose config was checked to be of its adapter (by the lookup in {@link MODULES}). */
type AnyCreate = (config: DeviceConfig, deps: AdapterDeps) => Bulb

/** Where each adapter's `create` lives. */
const MODULES: { readonly [K in Kind]: () => Promise<{ create: Create<K> }> } = {
  sim: () => import('./sim/create.js'),
  hue: () => import('./hue/create.js'),
  kasa: () => import('./kasa/create.js'),
  mqtt: () => import('./mqtt/create.js'),
}

/** Thrown when an adapter's code cannot be loaded; the devices of that adapter are left out, the others run. */
export class AdapterLoadError extends Error {
  readonly code = 'ADAPTER_LOAD_FAILED'
  constructor(
    readonly adapter: Kind,
    cause: unknown,
  ) {
    super(
      `the '${adapter}' adapter cannot be loaded: ${(cause as Error).message ?? String(cause)} (reinstall genlock; ` +
        `devices of other adapters are not affected)`,
      { cause },
    )
    this.name = 'AdapterLoadError'
  }
}

const loaded = new Map<Kind, Promise<AnyCreate>>()

function adapterCreate(kind: Kind): Promise<AnyCreate> {
  let create = loaded.get(kind)
  if (!create) {
    create = MODULES[kind]().then(
      (module) => module.create as AnyCreate,
      (error: unknown) => {
        // A later device file (or a fixed install, after a reload) may try again.
        loaded.delete(kind)
        throw new AdapterLoadError(kind, error)
      },
    )
    loaded.set(kind, create)
  }
  return create
}

/**
 * Builds the bulb a validated device config describes, loading its adapter first if need be. Rejects with an
 * {@link AdapterLoadError} if the adapter's code cannot be loaded, and as `createBulb` throws otherwise.
 *
 * @example
 * const bulb = await loadBulb(config, { mqtt: bus, logger })
 */
export async function loadBulb(config: DeviceConfig, deps: AdapterDeps = {}): Promise<Bulb> {
  const create = await adapterCreate(config.adapter)
  return create(config, deps)
}

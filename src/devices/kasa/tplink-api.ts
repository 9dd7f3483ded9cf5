import { createRequire } from 'node:module'
import type * as TplinkApi from 'tplink-smarthome-api'

/**
 * tplink-smarthome-api, loaded as the CommonJS module it is. A dynamic `import()` of it differs by loader: Node's
 * ESM loader names only `default` and `ResponseError` (its index defines `Client` through an `__importDefault(…)`
 * getter that Node's CommonJS export scanner cannot see), tsx names `Client` but has no `default`, and vitest hides
 * both. `require` gives the same `module.exports` under all three, so the shipped build runs what the tests ran.
 */
export function tplinkApi(): typeof TplinkApi {
  return createRequire(import.meta.url)('tplink-smarthome-api') as typeof TplinkApi
}

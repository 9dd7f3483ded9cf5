/**
 * What only some configs need, as the paths of their modules, in the sources (src/) and in the installed package
 * (dist/) alike. Used by the module-loading checks of `genlock run` (test/daemon/lazy-loading.test.ts and
 * test/e2e/lean-daemon.test.ts).
 */
export const OPTIONAL_MODULES = {
  hue: /\/(src|dist)\/devices\/hue\/|\/node_modules\/node-hue-api\//,
  kasa: /\/(src|dist)\/devices\/kasa\/|\/node_modules\/tplink-smarthome-api\//,
  mqttBulbs: /\/(src|dist)\/devices\/mqtt\//,
  redisLocks: /\/(src|dist)\/lock\/redis\/|\/node_modules\/ioredis\//,
  dashboard: /\/(src|dist)\/daemon\/extensions\/dashboard\/|\/(src|dist)\/http\//,
  metrics: /\/node_modules\/prom-client\//,
  // mqtt.js's WebSocket transport: genlock speaks mqtt:// and mqtts:// only (src/mqtt/open-client.ts).
  webSocket: /\/node_modules\/ws\//,
  // mqtt.js's SOCKS proxy client, loaded by its TCP transport whether or not a proxy is set.
  socksProxy: /\/node_modules\/socks\//,
  // The expression language, for automations with conditions or templates.
  expressions: /\/node_modules\/jexl\//,
}

/** The optional parts whose modules are among `modules` (URLs or paths). */
export function optionalPartsLoaded(modules: readonly string[]): string[] {
  return Object.entries(OPTIONAL_MODULES)
    .filter(([, pattern]) => modules.some((url) => pattern.test(url)))
    .map(([name]) => name)
}

/**
 * Node-RED, the peer the MQTT benchmarks run genlock against: installed into a folder for one run (npm's cache
 * makes later installs quick) and given a user folder with flows and settings.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** 4.x: the last line that runs on Node 20, the machine's own (5.x needs Node 22.9). */
export const NODE_RED = 'node-red@4.1.8'

/** Installs {@link NODE_RED} into `dir` and returns the path of its `red.js`, which its launcher runs with node. */
export function installNodeRed(dir: string): string {
  mkdirSync(dir, { recursive: true })
  const args = ['install', '--prefix', dir, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', NODE_RED]
  execFileSync('npm', args, { stdio: ['ignore', 'ignore', 'inherit'] })
  return join(dir, 'node_modules/node-red/red.js')
}

/** The `mqtt-broker` config node for a broker on 127.0.0.1:`port`, MQTT 3.1.1, as the editor creates it. */
export function nodeRedBroker(id: string, port: number): object {
  return {
    id,
    type: 'mqtt-broker',
    name: 'mosquitto',
    broker: '127.0.0.1',
    port: String(port),
    clientid: '',
    autoConnect: true,
    usetls: false,
    protocolVersion: '4',
    keepalive: '60',
    cleansession: true,
  }
}

/**
 * Writes a Node-RED user folder: `flows.json` and a `settings.js` with the editor on 127.0.0.1:`uiPort`, no
 * telemetry, info logging. Returns the settings file (for `red.js --userDir <dir> --settings <file>`).
 */
export function writeNodeRedUserDir(dir: string, flows: readonly object[], uiPort: number): string {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(flows))
  const settings = {
    uiPort,
    uiHost: '127.0.0.1',
    flowFile: 'flows.json',
    credentialSecret: false,
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
    logging: { console: { level: 'info', metrics: false, audit: false } },
  }
  writeFileSync(join(dir, 'settings.js'), `module.exports = ${JSON.stringify(settings)}\n`)
  return join(dir, 'settings.js')
}

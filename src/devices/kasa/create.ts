import { commonOptions, type AdapterConfig, type AdapterDeps } from '../adapter-options.js'
import { KasaBulb } from './kasa-bulb.js'

/** The bulb an `adapter: kasa` device file describes. */
export function create(config: AdapterConfig<'kasa'>, deps: AdapterDeps): KasaBulb {
  return new KasaBulb({
    ...commonOptions(config, deps),
    host: config.host,
    port: config.port,
    transport: config.transport,
    protocol: config.protocol,
    httpPort: config.httpPort,
    username: config.username,
    password: config.password,
    pollMs: config.poll,
  })
}

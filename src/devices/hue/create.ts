import { commonOptions, type AdapterConfig, type AdapterDeps } from '../adapter-options.js'
import { HueBulb } from './hue-bulb.js'

/** The bulb an `adapter: hue` device file describes. */
export function create(config: AdapterConfig<'hue'>, deps: AdapterDeps): HueBulb {
  return new HueBulb({
    ...commonOptions(config, deps),
    host: config.host,
    ...(config.port === undefined ? {} : { port: config.port }),
    username: config.username,
    light: config.light,
    insecure: config.insecure,
    gamut: config.gamut,
    ...(config.ca === undefined ? {} : { caFile: config.ca }),
  })
}

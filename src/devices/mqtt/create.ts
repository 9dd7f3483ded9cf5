import { commonOptions, type AdapterConfig, type AdapterDeps } from '../adapter-options.js'
import { MqttBulb } from './mqtt-bulb.js'
import { tasmotaProtocol } from './tasmota.js'
import { zigbee2mqttProtocol } from './zigbee2mqtt.js'

/** The bulb an `adapter: mqtt` device file describes; it needs the daemon's MQTT connection. */
export function create(config: AdapterConfig<'mqtt'>, deps: AdapterDeps): MqttBulb {
  if (!deps.mqtt) {
    throw new Error(`${config.id}: adapter 'mqtt' needs an MQTT connection (set mqtt.url in config.yaml)`)
  }
  const protocol =
    config.preset === 'tasmota' ? tasmotaProtocol(config.topic) : zigbee2mqttProtocol(config.topic, config.colorFormat)
  return new MqttBulb({
    ...commonOptions(config, deps),
    link: deps.mqtt,
    protocol,
    topic: config.topic,
    confirm: config.confirm,
  })
}

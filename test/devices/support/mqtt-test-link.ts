import mqtt, { type MqttClient } from 'mqtt'
import { topicMatches } from '../../../src/bus/index.js'
import type { MqttLink, MqttLinkMessage } from '../../../src/devices/mqtt/mqtt-link.js'

/** An MqttLink over a real MQTT.js client, for tests (the daemon passes its own MessageBus instead). */
export class MqttTestLink implements MqttLink {
  private readonly handlers = new Set<{ pattern: string; handler: (message: MqttLinkMessage) => void }>()

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      for (const entry of [...this.handlers]) {
        if (topicMatches(entry.pattern, topic)) entry.handler({ topic, payload, retain: packet.retain })
      }
    })
  }

  static async connect(url: string): Promise<MqttTestLink> {
    return new MqttTestLink(await mqtt.connectAsync(url, { reconnectPeriod: 100 }))
  }

  subscribe(pattern: string, handler: (message: MqttLinkMessage) => void): () => void {
    const entry = { pattern, handler }
    this.handlers.add(entry)
    this.client.subscribe(pattern, { qos: 1 })
    return () => {
      this.handlers.delete(entry)
      if (![...this.handlers].some((other) => other.pattern === pattern)) this.client.unsubscribe(pattern)
    }
  }

  /** Resolves once the broker acknowledged every subscription so far (so no message is missed). */
  async ready(): Promise<void> {
    await this.client.subscribeAsync('$genlock/test/ready', { qos: 1 })
  }

  async publish(
    topic: string,
    payload: string | Buffer,
    options: { retain?: boolean; qos?: 0 | 1 } = {},
  ): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: options.qos ?? 0, retain: options.retain ?? false })
  }

  /** The next message on a topic matching `pattern` (subscribes for it). */
  async next(pattern: string): Promise<MqttLinkMessage> {
    let stop = () => {}
    const message = new Promise<MqttLinkMessage>((resolve) => {
      stop = this.subscribe(pattern, resolve)
    })
    await this.ready()
    const result = await message
    stop()
    return result
  }

  async end(): Promise<void> {
    await this.client.endAsync(true)
  }
}

import type { MqttLinkMessage } from '../../../src/devices/mqtt/mqtt-link.js'
import type { MqttTestLink } from './mqtt-test-link.js'

/**
 * The Zigbee2MQTT side of one light, played by a test: it takes `<topic>/set` and `<topic>/get`, applies them to
 * its state and publishes the state (retained) on `<topic>`, as Zigbee2MQTT does. It can go quiet (a light that
 * does not answer), skip one answer (a lost radio frame) or report itself offline.
 */
export class Zigbee2MqttPeer {
  readonly received: Record<string, unknown>[] = []
  state: Record<string, unknown> = { state: 'OFF', brightness: 254, color_mode: 'color_temp', color_temp: 370 }
  silent = false
  skipNext = 0
  private stop: (() => void) | undefined
  private readonly listeners = new Set<(body: Record<string, unknown>) => void>()

  constructor(
    private readonly link: MqttTestLink,
    readonly topic: string,
  ) {}

  async start(): Promise<void> {
    const offSet = this.link.subscribe(`${this.topic}/set`, (message) => void this.onSet(message))
    const offGet = this.link.subscribe(`${this.topic}/get`, () => void this.publishState())
    this.stop = () => {
      offSet()
      offGet()
    }
    await this.link.ready()
    await this.setAvailability('online')
    await this.publishState()
  }

  close(): void {
    this.stop?.()
  }

  /** The next `/set` body the light receives. */
  nextSet(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const listener = (body: Record<string, unknown>) => {
        this.listeners.delete(listener)
        resolve(body)
      }
      this.listeners.add(listener)
    })
  }

  async setAvailability(state: 'online' | 'offline'): Promise<void> {
    await this.link.publish(`${this.topic}/availability`, JSON.stringify({ state }), { retain: true, qos: 1 })
  }

  async publishState(): Promise<void> {
    await this.link.publish(this.topic, JSON.stringify(this.state), { retain: true, qos: 1 })
  }

  private async onSet(message: MqttLinkMessage): Promise<void> {
    const body = JSON.parse(message.payload.toString('utf8')) as Record<string, unknown>
    this.received.push(body)
    for (const listener of [...this.listeners]) listener(body)
    if (this.silent) return
    if (this.skipNext > 0) {
      this.skipNext--
      return
    }
    const { transition: _transition, ...changes } = body
    const next = { ...this.state, ...changes }
    if (changes.color) next.color_mode = 'xy'
    if (changes.color_temp) {
      next.color_mode = 'color_temp'
      delete next.color
    }
    this.state = next
    await this.publishState()
  }
}

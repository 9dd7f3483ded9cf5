import { connect, type MqttClient } from 'mqtt'
import { topicMatches } from '../../../src/bus/index.js'

/** One message a peer received. */
export interface PeerMessage {
  readonly topic: string
  readonly payload: string
  readonly retain: boolean
}

/**
 * Another client on the broker, as Home Assistant or a person with mosquitto_pub is: it keeps every message it
 * receives, so a test can wait for the one it expects (already received or still to come).
 */
export class MqttPeer {
  readonly received: PeerMessage[] = []
  private readonly waiters = new Set<() => void>()

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.received.push({ topic, payload: payload.toString('utf8'), retain: packet.retain })
      for (const waiter of [...this.waiters]) waiter()
    })
  }

  /** Connects (reconnecting every 100 ms when the broker goes away, so a broker restart test need not wait). */
  static async connect(url: string, clientId: string): Promise<MqttPeer> {
    const client = connect(url, { clientId, reconnectPeriod: 100 })
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve())
      client.once('error', reject)
    })
    client.on('error', () => undefined) // refused reconnects while a broker restarts
    return new MqttPeer(client)
  }

  async subscribe(filter: string): Promise<void> {
    await this.client.subscribeAsync(filter, { qos: 1 })
  }

  /** Publishes as Home Assistant's `mqtt.publish` does by default: QoS 0, not retained. */
  publish(topic: string, payload: string): void {
    this.client.publish(topic, payload, { qos: 0 })
  }

  /**
   * The first message on `filter` from index `from` of {@link received} that `match` accepts, as soon as it is
   * here. `from` defaults to now: only messages still to come.
   */
  next(
    filter: string,
    match: (message: PeerMessage) => boolean = () => true,
    from = this.received.length,
  ): Promise<PeerMessage> {
    return new Promise((resolve) => {
      const check = () => {
        const found = this.received.slice(from).find((message) => topicMatches(filter, message.topic) && match(message))
        if (!found) return
        this.waiters.delete(check)
        resolve(found)
      }
      this.waiters.add(check)
      check()
    })
  }

  /**
   * Behaves as Home Assistant does with genlock's availability: the moment a (new) `online` arrives on
   * `<baseTopic>/status`, it publishes `topic`/`payload` — from inside the message handler, before anything else.
   * Returns how many times it did so.
   */
  publishWhenOnline(baseTopic: string, topic: string, payload: () => string): () => number {
    let sent = 0
    this.client.on('message', (received, body) => {
      if (received !== `${baseTopic}/status` || body.toString('utf8') !== 'online') return
      this.publish(topic, payload())
      sent++
    })
    return () => sent
  }

  async end(): Promise<void> {
    await this.client.endAsync(true)
  }
}

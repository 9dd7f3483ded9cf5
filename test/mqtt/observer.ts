import { connect, type MqttClient } from 'mqtt'

export interface Seen {
  readonly topic: string
  readonly payload: string
  readonly retain: boolean
}

/**
 * A plain mqtt.js client standing in for Home Assistant: it records every message on the topics it watches and
 * lets a test wait for the message it expects (resolving on the message itself, never on a timer).
 */
export class Observer {
  readonly seen: Seen[] = []
  private waiters: { match: (m: Seen) => boolean; resolve: (m: Seen) => void }[] = []

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const message = { topic, payload: payload.toString(), retain: packet.retain }
      this.seen.push(message)
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.match(message)) return true
        waiter.resolve(message)
        return false
      })
    })
  }

  static async connect(url: string, topics: string[] = ['#'], clientId?: string): Promise<Observer> {
    const client = connect(url, {
      clientId: clientId ?? `observer-${Math.random().toString(16).slice(2)}`,
      reconnectPeriod: 100,
    })
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve())
      client.once('error', reject)
    })
    const observer = new Observer(client)
    if (topics.length > 0) await client.subscribeAsync(topics, { qos: 1 })
    return observer
  }

  /** Resolves with the first message (already seen since `from`, or still to come) that `match` accepts. */
  waitFor(match: (m: Seen) => boolean, from = 0): Promise<Seen> {
    const earlier = this.seen.slice(from).find(match)
    if (earlier) return Promise.resolve(earlier)
    return new Promise((resolve) => this.waiters.push({ match, resolve }))
  }

  /** Waits for `payload` (exactly, or a predicate on it) on `topic`. */
  waitForPayload(topic: string, payload: string | ((payload: string) => boolean), from = 0): Promise<Seen> {
    const test = typeof payload === 'string' ? (p: string) => p === payload : payload
    return this.waitFor((m) => m.topic === topic && test(m.payload), from)
  }

  /** The index the next message will get; pass it to `waitFor` to ignore what came before. */
  get mark(): number {
    return this.seen.length
  }

  /** Resolves when the client is connected (at once if it already is). */
  waitForReconnect(): Promise<void> {
    if (this.client.connected) return Promise.resolve()
    return new Promise((resolve) => this.client.once('connect', () => resolve()))
  }

  async publish(topic: string, payload: string | Buffer, retain = false): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain })
  }

  async close(): Promise<void> {
    await this.client.endAsync(true)
  }
}

import aedesPersistence from 'aedes-persistence'
import type { MqttLogger } from './logger.js'

/**
 * aedes-persistence is CommonJS: `module.exports` is the factory (as aedes itself imports it), while its type
 * declarations describe an ES module with a default export.
 */
const memoryPersistence = aedesPersistence as unknown as () => object

/**
 * Mosquitto's limits, for the embedded broker (config: mqtt.max_packet_bytes, max_queued_messages,
 * max_retained_bytes).
 */
export interface BrokerLimits {
  /** Largest packet a client may send, header included; a bigger one ends its connection when its header arrives. */
  readonly maxPacketBytes: number
  /**
   * QoS 1/2 messages kept per client with a persistent session that has not acknowledged them (offline, or online
   * and not answering). Beyond it, new messages are not kept for that client, as with Mosquitto's
   * max_queued_messages: an offline client misses them, an online one still gets them, without redelivery.
   */
  readonly maxQueuedMessages: number
  /** Retained messages' total size (topic + payload bytes); a retained publish beyond it is refused. */
  readonly maxRetainedBytes: number
}

/**
 * The defaults: 1 MiB packets (genlock takes payloads up to 64 KiB; Zigbee2MQTT's largest retained message, the
 * device list, is a few hundred KiB for a large network), Mosquitto's own 1000 queued messages, and 16 MiB of
 * retained messages (genlock's own are a few hundred bytes per device and automation). Together they keep a
 * misbehaving client well inside the unit's MemoryMax=256M.
 */
export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  maxPacketBytes: 1024 * 1024,
  maxQueuedMessages: 1000,
  maxRetainedBytes: 16 * 1024 * 1024,
}

/** What aedes hands its persistence: a packet with the broker-wide counter that identifies it. */
interface StoredPacket {
  readonly topic: string
  readonly payload: Buffer
  readonly brokerId?: string
  readonly brokerCounter?: number
}

type ClientRef = { readonly id: string }
type Subscriber = { readonly clientId: string }

/**
 * The promise-style methods aedes 1.x calls on its persistence, which these limits wrap (aedes-persistence's
 * type declarations still describe the older callback style).
 */
interface LimitedMethods {
  storeRetained(packet: StoredPacket): Promise<void>
  outgoingEnqueue(subscriber: Subscriber, packet: StoredPacket): Promise<void>
  outgoingEnqueueCombi(subscribers: Subscriber[], packet: StoredPacket): Promise<void>
  outgoingUpdate(client: ClientRef, packet: StoredPacket): Promise<void>
  outgoingClearMessageId(client: ClientRef, packet: StoredPacket): Promise<StoredPacket | undefined>
}

/** The retained messages' sizes, for {@link BrokerLimits.maxRetainedBytes}. */
export class RetainedBudget {
  private readonly sizes = new Map<string, number>()
  private total = 0

  constructor(readonly maxBytes: number) {}

  get usedBytes(): number {
    return this.total
  }

  /** Whether retaining `payloadBytes` on `topic` (replacing what is there) stays within the budget. */
  admits(topic: string, payloadBytes: number): boolean {
    return this.total - (this.sizes.get(topic) ?? 0) + sizeOf(topic, payloadBytes) <= this.maxBytes
  }

  /** Records what the broker now retains on `topic` (an empty payload clears it). */
  stored(topic: string, payloadBytes: number): void {
    this.total -= this.sizes.get(topic) ?? 0
    const size = sizeOf(topic, payloadBytes)
    if (size === 0) this.sizes.delete(topic)
    else this.sizes.set(topic, size)
    this.total += size
  }
}

function sizeOf(topic: string, payloadBytes: number): number {
  return payloadBytes === 0 ? 0 : Buffer.byteLength(topic) + payloadBytes
}

/**
 * aedes's in-memory persistence with {@link BrokerLimits.maxQueuedMessages} per client, keeping `retained` up to
 * date. The wrapped persistence queues without bound: a client that subscribed with a persistent session and went
 * away would collect every message forever.
 */
export function limitedPersistence(
  limits: Pick<BrokerLimits, 'maxQueuedMessages'>,
  retained: RetainedBudget,
  logger: MqttLogger,
): object {
  const persistence = memoryPersistence() as unknown as LimitedMethods
  const inner = {
    storeRetained: persistence.storeRetained.bind(persistence),
    enqueueCombi: persistence.outgoingEnqueueCombi.bind(persistence),
    update: persistence.outgoingUpdate.bind(persistence),
    clear: persistence.outgoingClearMessageId.bind(persistence),
  }
  /** Client id → messages kept for it and not yet acknowledged. */
  const queued = new Map<string, number>()
  /** Client id → counters of messages not kept for it (see outgoingUpdate). Bounded like the queue itself. */
  const notKept = new Map<string, Set<number>>()
  const full = new Set<string>()

  const admit = (clientId: string, packet: StoredPacket): boolean => {
    const count = queued.get(clientId) ?? 0
    if (count < limits.maxQueuedMessages) {
      queued.set(clientId, count + 1)
      return true
    }
    if (!full.has(clientId)) {
      full.add(clientId)
      logger.warn(
        { client: clientId, limit: limits.maxQueuedMessages },
        'mqtt client has too many unacknowledged messages; new ones are not kept for it until it catches up',
      )
    }
    if (packet.brokerCounter !== undefined) {
      const skipped = notKept.get(clientId) ?? new Set<number>()
      if (skipped.size >= limits.maxQueuedMessages) skipped.delete(skipped.values().next().value!)
      notKept.set(clientId, skipped.add(packet.brokerCounter))
    }
    return false
  }

  const overrides: LimitedMethods = {
    async storeRetained(packet) {
      await inner.storeRetained(packet)
      retained.stored(packet.topic, packet.payload.length)
    },
    async outgoingEnqueue(subscriber, packet) {
      if (admit(subscriber.clientId, packet)) await inner.enqueueCombi([subscriber], packet)
    },
    async outgoingEnqueueCombi(subscribers, packet) {
      const kept = subscribers.filter((subscriber) => admit(subscriber.clientId, packet))
      if (kept.length > 0) await inner.enqueueCombi(kept, packet)
    },
    async outgoingUpdate(client, packet) {
      try {
        await inner.update(client, packet)
      } catch (error) {
        // aedes records the delivery of every QoS 1/2 message to a persistent-session client in its queue; for
        // a message not kept there (over the limit) that fails, and aedes would drop the client for it.
        if (packet.brokerCounter !== undefined && notKept.get(client.id)?.delete(packet.brokerCounter)) return
        throw error
      }
    },
    async outgoingClearMessageId(client, packet) {
      const cleared = await inner.clear(client, packet)
      if (cleared) {
        const count = (queued.get(client.id) ?? 1) - 1
        if (count > 0) queued.set(client.id, count)
        else queued.delete(client.id)
        if (count < limits.maxQueuedMessages) full.delete(client.id)
      }
      return cleared
    },
  }
  return Object.assign(persistence, overrides)
}

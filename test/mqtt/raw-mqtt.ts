import { connect, type Socket } from 'node:net'

/**
 * A hand-written MQTT 3.1.1 client over a plain socket, for what mqtt.js will not do: announce a 100 MB packet and
 * stream it, or receive QoS 1 messages without acknowledging them.
 */

function remainingLength(length: number): Buffer {
  const bytes: number[] = []
  do {
    let byte = length % 128
    length = Math.floor(length / 128)
    if (length > 0) byte |= 0x80
    bytes.push(byte)
  } while (length > 0)
  return Buffer.from(bytes)
}

function text(value: string): Buffer {
  const bytes = Buffer.from(value)
  const length = Buffer.alloc(2)
  length.writeUInt16BE(bytes.length)
  return Buffer.concat([length, bytes])
}

function packet(firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), remainingLength(body.length), body])
}

export function connectPacket(
  clientId: string,
  options: { clean?: boolean; username?: string; password?: string } = {},
): Buffer {
  let flags = options.clean === false ? 0 : 0x02
  if (options.username !== undefined) flags |= 0x80
  if (options.password !== undefined) flags |= 0x40
  const body = Buffer.concat([
    text('MQTT'),
    Buffer.from([4, flags, 0, 60]),
    text(clientId),
    ...(options.username !== undefined ? [text(options.username)] : []),
    ...(options.password !== undefined ? [text(options.password)] : []),
  ])
  return packet(0x10, body)
}

export function subscribePacket(messageId: number, topic: string, qos: 0 | 1): Buffer {
  const id = Buffer.alloc(2)
  id.writeUInt16BE(messageId)
  return packet(0x82, Buffer.concat([id, text(topic), Buffer.from([qos])]))
}

/** A QoS 0 PUBLISH header announcing `payloadBytes` of payload; the payload is to follow. */
export function publishHeader(topic: string, payloadBytes: number): Buffer {
  const topicBytes = text(topic)
  return Buffer.concat([Buffer.from([0x30]), remainingLength(topicBytes.length + payloadBytes), topicBytes])
}

export const DISCONNECT = Buffer.from([0xe0, 0])

export interface ReceivedPacket {
  readonly type: number
  readonly flags: number
  readonly body: Buffer
}

/** A raw connection that splits what the broker sends into packets. */
export class RawMqtt {
  readonly packets: ReceivedPacket[] = []
  readonly closed: Promise<void>
  private buffered = Buffer.alloc(0)
  private waiters: (() => void)[] = []

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk])
      this.split()
    })
    socket.on('error', () => undefined)
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
    void this.closed.then(() => this.notify())
  }

  static async open(port: number): Promise<RawMqtt> {
    const socket = connect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve())
      socket.once('error', reject)
    })
    return new RawMqtt(socket)
  }

  get isClosed(): boolean {
    return this.socket.destroyed
  }

  /** Sends CONNECT and resolves with the CONNACK return code. */
  async login(clientId: string, options: Parameters<typeof connectPacket>[1] = {}): Promise<number> {
    this.socket.write(connectPacket(clientId, options))
    const connack = await this.next((p) => p.type === 2)
    return connack.body[1]!
  }

  /** Resolves with the first packet (already received or still to come) that `match` accepts. */
  async next(match: (packet: ReceivedPacket) => boolean, from = 0): Promise<ReceivedPacket> {
    for (;;) {
      const found = this.packets.slice(from).find(match)
      if (found) return found
      if (this.isClosed) throw new Error('connection closed before the expected packet')
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  /** Resolves once `count` packets of `type` have arrived; PUBLISH is 3. */
  async count(type: number, count: number): Promise<ReceivedPacket[]> {
    for (;;) {
      const found = this.packets.filter((p) => p.type === type)
      if (found.length >= count) return found
      if (this.isClosed) throw new Error(`connection closed after ${found.length} of ${count} packets of type ${type}`)
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  /** The topic and payload of a received PUBLISH. */
  static publishOf(received: ReceivedPacket): { topic: string; payload: string; dup: boolean } {
    const topicLength = received.body.readUInt16BE(0)
    const topic = received.body.subarray(2, 2 + topicLength).toString()
    const qos = (received.flags >> 1) & 3
    const payload = received.body.subarray(2 + topicLength + (qos > 0 ? 2 : 0)).toString()
    return { topic, payload, dup: (received.flags & 0x08) !== 0 }
  }

  end(): void {
    this.socket.end(DISCONNECT)
  }

  destroy(): void {
    this.socket.destroy()
  }

  private split(): void {
    for (;;) {
      if (this.buffered.length < 2) break
      let length = 0
      let i = 1
      let multiplier = 1
      let byte: number
      do {
        if (i >= this.buffered.length) return
        byte = this.buffered[i++]!
        length += (byte & 0x7f) * multiplier
        multiplier *= 128
      } while (byte & 0x80)
      if (this.buffered.length < i + length) return
      const first = this.buffered[0]!
      this.packets.push({ type: first >> 4, flags: first & 0x0f, body: this.buffered.subarray(i, i + length) })
      this.buffered = this.buffered.subarray(i + length)
    }
    this.notify()
  }

  private notify(): void {
    for (const waiter of this.waiters.splice(0)) waiter()
  }
}

/**
 * Announces a PUBLISH of `payloadBytes` on a new connection and streams zeros until done or the broker hangs up.
 * Resolves with how many bytes got written before the connection ended.
 */
export async function floodPublish(
  port: number,
  payloadBytes: number,
  clientId = 'flood',
): Promise<{ written: number; complete: boolean }> {
  const raw = await RawMqtt.open(port)
  await raw.login(clientId)
  const chunk = Buffer.alloc(1024 * 1024)
  let written = 0
  const header = publishHeader('flood/topic', payloadBytes)
  raw.socket.write(header)
  written += header.length
  while (written - header.length < payloadBytes && !raw.isClosed) {
    const size = Math.min(chunk.length, payloadBytes - (written - header.length))
    const flushed = raw.socket.write(size === chunk.length ? chunk : chunk.subarray(0, size))
    written += size
    if (!flushed) await Promise.race([new Promise((resolve) => raw.socket.once('drain', resolve)), raw.closed])
  }
  const complete = !raw.isClosed
  raw.destroy()
  return { written, complete }
}

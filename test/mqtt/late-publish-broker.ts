import { createServer, type Server, type Socket } from 'node:net'

/**
 * A minimal MQTT 3.1.1 broker that answers what genlock sends (CONNECT, SUBSCRIBE, UNSUBSCRIBE, PUBLISH at QoS 0
 * and 1, PINGREQ) and, when a client disconnects cleanly, plays the race a real broker can produce: a QoS 1
 * message for one of the client's subscriptions that was already on its way arrives after the client has ended its
 * side of the socket. (Mosquitto does this whenever it queued the message before it read the DISCONNECT; here it
 * is made certain by sending only once the client's FIN has arrived.)
 */
export class LatePublishBroker {
  /** Set once a late message has been sent to a disconnecting client. */
  latePublishes = 0

  private constructor(private readonly server: Server) {}

  static async start(): Promise<LatePublishBroker> {
    const server = createServer({ allowHalfOpen: true })
    const broker = new LatePublishBroker(server)
    server.on('connection', (socket) => broker.serve(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return broker
  }

  get url(): string {
    const address = this.server.address()
    return `mqtt://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private serve(socket: Socket): void {
    socket.on('error', () => undefined)
    const subscriptions: string[] = []
    let disconnecting = false
    let buffered = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      for (;;) {
        const frame = nextFrame(buffered)
        if (!frame) break
        buffered = buffered.subarray(frame.size)
        const type = frame.first >> 4
        if (type === 1) socket.write(Buffer.from([0x20, 2, 0, 0]))
        else if (type === 8) {
          const id = frame.body.subarray(0, 2)
          const granted: number[] = []
          for (let at = 2; at < frame.body.length;) {
            const length = frame.body.readUInt16BE(at)
            subscriptions.push(frame.body.subarray(at + 2, at + 2 + length).toString())
            granted.push(Math.min(frame.body[at + 2 + length]!, 1))
            at += 3 + length
          }
          socket.write(Buffer.concat([Buffer.from([0x90, 2 + granted.length]), id, Buffer.from(granted)]))
        } else if (type === 10) socket.write(Buffer.concat([Buffer.from([0xb0, 2]), frame.body.subarray(0, 2)]))
        else if (type === 3 && ((frame.first >> 1) & 3) === 1) {
          const topicLength = frame.body.readUInt16BE(0)
          const id = frame.body.subarray(2 + topicLength, 4 + topicLength)
          socket.write(Buffer.concat([Buffer.from([0x40, 2]), id]))
        } else if (type === 12) socket.write(Buffer.from([0xd0, 0]))
        else if (type === 14) disconnecting = true
      }
    })
    socket.once('end', () => {
      if (disconnecting && subscriptions.length > 0) {
        const topic = subscriptions[0]!.replace(/\+/g, 'late').replace(/#$/, 'late')
        socket.write(publishQos1(topic, 'ON', 4242))
        this.latePublishes++
      }
      socket.end()
    })
  }
}

function nextFrame(buffer: Buffer): { first: number; body: Buffer; size: number } | undefined {
  let length = 0
  let multiplier = 1
  let at = 1
  for (;;) {
    if (at >= buffer.length) return undefined
    const byte = buffer[at++]!
    length += (byte & 0x7f) * multiplier
    multiplier *= 128
    if (!(byte & 0x80)) break
  }
  if (buffer.length < at + length) return undefined
  return { first: buffer[0]!, body: buffer.subarray(at, at + length), size: at + length }
}

function publishQos1(topic: string, payload: string, messageId: number): Buffer {
  const topicBytes = Buffer.from(topic)
  const body = Buffer.alloc(2 + topicBytes.length + 2 + payload.length)
  body.writeUInt16BE(topicBytes.length, 0)
  topicBytes.copy(body, 2)
  body.writeUInt16BE(messageId, 2 + topicBytes.length)
  body.write(payload, 4 + topicBytes.length)
  return Buffer.concat([Buffer.from([0x32, body.length]), body])
}

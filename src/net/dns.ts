/**
 * Just enough DNS wire format (RFC 1035, with RFC 6762's multicast additions) to ask for `_hue._tcp.local` and
 * read the PTR/SRV/A/TXT records of the answer (genlock discover), and to answer such a query (the simulated Hue
 * bridge). It lives in src/net, beside nothing else of genlock's, so discovery (src/cli) and the simulators can
 * both use it without either depending on the other. Names may be compressed; everything is bounds-checked,
 * since any host on the LAN can send us a packet.
 */

export const TYPE = { A: 1, PTR: 12, TXT: 16, SRV: 33 } as const

/** One resource record; `data` is decoded for the types above. */
export interface DnsRecord {
  readonly name: string
  readonly type: number
  readonly ttl: number
  readonly data:
    | { readonly kind: 'ptr'; readonly target: string }
    | { readonly kind: 'srv'; readonly port: number; readonly target: string }
    | { readonly kind: 'a'; readonly address: string }
    | { readonly kind: 'txt'; readonly entries: readonly string[] }
    | { readonly kind: 'other' }
}

export interface DnsMessage {
  readonly response: boolean
  readonly questions: readonly { readonly name: string; readonly type: number }[]
  readonly records: readonly DnsRecord[]
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean)
  return Buffer.concat([
    ...parts.map((part) => Buffer.concat([Buffer.from([Buffer.byteLength(part)]), Buffer.from(part)])),
    Buffer.from([0]),
  ])
}

/** A query for `name` of `type` (id 0, as mDNS wants). */
export function encodeQuery(name: string, type: number): Buffer {
  const header = Buffer.alloc(12)
  header.writeUInt16BE(1, 4) // one question
  const tail = Buffer.alloc(4)
  tail.writeUInt16BE(type, 0)
  tail.writeUInt16BE(1, 2) // class IN
  return Buffer.concat([header, encodeName(name), tail])
}

/** A response carrying `records` (answers), for the Hue simulator. */
export function encodeResponse(records: readonly DnsRecord[]): Buffer {
  const header = Buffer.alloc(12)
  header.writeUInt16BE(0x8400, 2) // response, authoritative
  header.writeUInt16BE(records.length, 6)
  const body = records.map((record) => {
    let data: Buffer
    switch (record.data.kind) {
      case 'ptr':
        data = encodeName(record.data.target)
        break
      case 'srv': {
        const fixed = Buffer.alloc(6)
        fixed.writeUInt16BE(record.data.port, 4)
        data = Buffer.concat([fixed, encodeName(record.data.target)])
        break
      }
      case 'a':
        data = Buffer.from(record.data.address.split('.').map(Number))
        break
      case 'txt':
        data = Buffer.concat(
          record.data.entries.map((entry) =>
            Buffer.concat([Buffer.from([Buffer.byteLength(entry)]), Buffer.from(entry)]),
          ),
        )
        break
      case 'other':
        data = Buffer.alloc(0)
    }
    const fixed = Buffer.alloc(10)
    fixed.writeUInt16BE(record.type, 0)
    fixed.writeUInt16BE(1, 2)
    fixed.writeUInt32BE(record.ttl, 4)
    fixed.writeUInt16BE(data.length, 8)
    return Buffer.concat([encodeName(record.name), fixed, data])
  })
  return Buffer.concat([header, ...body])
}

class Reader {
  constructor(
    readonly buffer: Buffer,
    public offset = 0,
  ) {}

  need(bytes: number): void {
    if (this.offset + bytes > this.buffer.length) throw new RangeError('truncated DNS message')
  }

  u8(): number {
    this.need(1)
    return this.buffer.readUInt8(this.offset++)
  }

  u16(): number {
    this.need(2)
    const value = this.buffer.readUInt16BE(this.offset)
    this.offset += 2
    return value
  }

  u32(): number {
    this.need(4)
    const value = this.buffer.readUInt32BE(this.offset)
    this.offset += 4
    return value
  }

  name(): string {
    const labels: string[] = []
    let offset = this.offset
    let jumped = false
    // A pointer loop would never end: a name cannot take more hops than the message has bytes.
    for (let hops = 0; hops < this.buffer.length; hops++) {
      if (offset >= this.buffer.length) throw new RangeError('truncated DNS name')
      const length = this.buffer[offset]!
      if (length === 0) {
        if (!jumped) this.offset = offset + 1
        return labels.join('.')
      }
      if ((length & 0xc0) === 0xc0) {
        if (offset + 1 >= this.buffer.length) throw new RangeError('truncated DNS pointer')
        if (!jumped) this.offset = offset + 2
        jumped = true
        offset = ((length & 0x3f) << 8) | this.buffer[offset + 1]!
        continue
      }
      if (offset + 1 + length > this.buffer.length) throw new RangeError('truncated DNS label')
      labels.push(this.buffer.toString('utf8', offset + 1, offset + 1 + length))
      offset += 1 + length
    }
    throw new RangeError('DNS name pointer loop')
  }
}

/** Parses a DNS message; throws a RangeError on a malformed one. */
export function decodeMessage(buffer: Buffer): DnsMessage {
  const reader = new Reader(buffer)
  reader.u16() // id
  const flags = reader.u16()
  const counts = [reader.u16(), reader.u16(), reader.u16(), reader.u16()] as const
  const questions: { name: string; type: number }[] = []
  for (let i = 0; i < counts[0]; i++) {
    const name = reader.name()
    const type = reader.u16()
    reader.u16()
    questions.push({ name, type })
  }
  const records: DnsRecord[] = []
  for (let i = 0; i < counts[1] + counts[2] + counts[3]; i++) {
    const name = reader.name()
    const type = reader.u16()
    reader.u16() // class (with the cache-flush bit)
    const ttl = reader.u32()
    const length = reader.u16()
    reader.need(length)
    const end = reader.offset + length
    let data: DnsRecord['data'] = { kind: 'other' }
    if (type === TYPE.PTR) data = { kind: 'ptr', target: reader.name() }
    else if (type === TYPE.SRV) {
      reader.u16()
      reader.u16()
      const port = reader.u16()
      data = { kind: 'srv', port, target: reader.name() }
    } else if (type === TYPE.A && length === 4)
      data = { kind: 'a', address: [...buffer.subarray(end - 4, end)].join('.') }
    else if (type === TYPE.TXT) {
      const entries: string[] = []
      while (reader.offset < end) {
        const size = reader.u8()
        reader.need(size)
        entries.push(buffer.toString('utf8', reader.offset, reader.offset + size))
        reader.offset += size
      }
      data = { kind: 'txt', entries }
    }
    reader.offset = end
    records.push({ name, type, ttl, data })
  }
  return { response: (flags & 0x8000) !== 0, questions, records }
}

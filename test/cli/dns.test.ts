import { describe, expect, it } from 'vitest'
import { decodeMessage, encodeQuery, encodeResponse, TYPE, type DnsRecord } from '../../src/net/dns.js'
import { mdnsAnswerBase, ssdpAnswerBase } from '../../src/cli/discovery/hue.js'

const from = { address: '10.0.0.9', family: 'IPv4' as const, port: 5353, size: 0 }

const answer: DnsRecord[] = [
  {
    name: '_hue._tcp.local',
    type: TYPE.PTR,
    ttl: 120,
    data: { kind: 'ptr', target: 'Hue Bridge - 1A2B3C._hue._tcp.local' },
  },
  {
    name: 'Hue Bridge - 1A2B3C._hue._tcp.local',
    type: TYPE.SRV,
    ttl: 120,
    data: { kind: 'srv', port: 443, target: 'ecb5fa1a2b3c.local' },
  },
  {
    name: 'Hue Bridge - 1A2B3C._hue._tcp.local',
    type: TYPE.TXT,
    ttl: 120,
    data: { kind: 'txt', entries: ['bridgeid=ecb5fafffe1a2b3c', 'modelid=BSB002'] },
  },
  { name: 'ecb5fa1a2b3c.local', type: TYPE.A, ttl: 120, data: { kind: 'a', address: '192.168.1.20' } },
]

describe('DNS wire format for mDNS', () => {
  it('a query carries one PTR question', () => {
    const query = decodeMessage(encodeQuery('_hue._tcp.local', TYPE.PTR))
    expect(query).toEqual({ response: false, questions: [{ name: '_hue._tcp.local', type: TYPE.PTR }], records: [] })
  })

  it('a response round-trips PTR, SRV, TXT and A records', () => {
    const decoded = decodeMessage(encodeResponse(answer))
    expect(decoded.response).toBe(true)
    expect(decoded.records).toEqual(answer)
  })

  it('follows compressed names', () => {
    // Header with one answer; the answer's name is a pointer to the question name at offset 12.
    const question = encodeQuery('_hue._tcp.local', TYPE.PTR)
    const header = Buffer.from(question.subarray(0, 12))
    header.writeUInt16BE(0x8400, 2)
    header.writeUInt16BE(1, 6)
    const record = Buffer.from([0xc0, 12, 0, TYPE.A, 0, 1, 0, 0, 0, 120, 0, 4, 10, 1, 2, 3])
    const decoded = decodeMessage(Buffer.concat([header, question.subarray(12), record]))
    expect(decoded.records[0]).toMatchObject({ name: '_hue._tcp.local', data: { kind: 'a', address: '10.1.2.3' } })
  })

  it('rejects truncated messages and pointer loops instead of hanging or reading past the end', () => {
    const full = encodeResponse(answer)
    expect(() => decodeMessage(full.subarray(0, full.length - 3))).toThrow(RangeError)
    const loop = Buffer.from([0, 0, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 12, 0, 1])
    expect(() => decodeMessage(loop)).toThrow(RangeError)
  })
})

describe('reading bridge answers', () => {
  it('an mDNS answer points at the bridge on plain HTTP port 80 when it announces 443', () => {
    expect(mdnsAnswerBase(encodeResponse(answer), from)).toBe('http://192.168.1.20')
  })

  it('an mDNS answer without an A record points at the sender, on the SRV port when it is another one', () => {
    const noA = answer
      .slice(0, 3)
      .map((record) => (record.data.kind === 'srv' ? { ...record, data: { ...record.data, port: 8080 } } : record))
    expect(mdnsAnswerBase(encodeResponse(noA), from)).toBe('http://10.0.0.9:8080')
  })

  it('ignores mDNS answers for other services, queries and junk', () => {
    const other = answer.map((record) => (record.type === TYPE.PTR ? { ...record, name: '_ipp._tcp.local' } : record))
    expect(mdnsAnswerBase(encodeResponse(other), from)).toBeUndefined()
    expect(mdnsAnswerBase(encodeQuery('_hue._tcp.local', TYPE.PTR), from)).toBeUndefined()
    expect(mdnsAnswerBase(Buffer.from('hello'), from)).toBeUndefined()
  })

  it('an SSDP answer counts only with a hue-bridgeid header', () => {
    const ssdp = (extra: string) =>
      Buffer.from(`HTTP/1.1 200 OK\r\nLOCATION: http://192.168.1.20:80/description.xml\r\n${extra}\r\n\r\n`)
    expect(ssdpAnswerBase(ssdp('hue-bridgeid: 001788FFFE1A2B3C'))).toBe('http://192.168.1.20')
    expect(ssdpAnswerBase(ssdp('SERVER: some printer'))).toBeUndefined()
  })
})

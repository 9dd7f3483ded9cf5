/**
 * The certificates a simulated Hue bridge serves: its own root CA, and a bridge certificate signed by it whose
 * name (CN) is the bridge id, as a real bridge's is signed by the Hue bridge root CA. Clients trust the simulator
 * by being given its CA explicitly; nothing here weakens verification.
 *
 * Written with node:crypto and ~60 lines of DER instead of a certificate library: two fixed-shape ECDSA P-256
 * certificates do not justify a dozen runtime packages in a shipped CLI, and Node's own X509Certificate and TLS
 * stack check the result in the tests.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'

/** A PEM certificate and its PEM private key. */
export interface CertificateAndKey {
  readonly cert: string
  readonly key: string
}

/** What a simulated bridge serves: the CA clients must trust, and its own certificate and key. */
export interface BridgeCertificates {
  readonly ca: string
  readonly bridge: CertificateAndKey
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  country: '2.5.4.6',
  organization: '2.5.4.10',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const

function length(size: number): Buffer {
  if (size < 0x80) return Buffer.from([size])
  const bytes: number[] = []
  for (let rest = size; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content)
  return Buffer.concat([Buffer.from([tag]), length(body.length), body])
}

const sequence = (...items: Buffer[]) => tlv(0x30, ...items)
const explicit = (n: number, item: Buffer) => tlv(0xa0 | n, item)
const octets = (data: Buffer) => tlv(0x04, data)
const bits = (data: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), data)
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'))
const printable = (text: string) => tlv(0x13, Buffer.from(text, 'latin1'))
const TRUE = Buffer.from([0x01, 0x01, 0xff])

function integer(value: Buffer): Buffer {
  // DER integers are minimal (no leading zero bytes) and signed (a leading 1 bit would make the serial negative).
  let start = 0
  while (start < value.length - 1 && value[start] === 0) start++
  const minimal = value.subarray(start)
  return tlv(0x02, minimal[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), minimal]) : minimal)
}

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number)
  const bytes = [first! * 40 + second!]
  for (const part of rest) {
    const chunk = [part & 0x7f]
    for (let value = part >> 7; value > 0; value >>= 7) chunk.unshift(0x80 | (value & 0x7f))
    bytes.push(...chunk)
  }
  return tlv(0x06, Buffer.from(bytes))
}

/** UTCTime, which X.509 requires for dates before 2050. */
function utcTime(date: Date): Buffer {
  const iso = date.toISOString() // 2026-01-02T03:04:05.678Z
  return tlv(
    0x17,
    Buffer.from(
      `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`,
    ),
  )
}

function name(fields: { country: string; organization: string; commonName: string }): Buffer {
  const rdn = (type: string, value: Buffer) => tlv(0x31, sequence(oid(type), value))
  return sequence(
    rdn(OID.country, printable(fields.country)),
    rdn(OID.organization, utf8(fields.organization)),
    rdn(OID.commonName, utf8(fields.commonName)),
  )
}

function extension(type: string, value: Buffer, critical = false): Buffer {
  return sequence(oid(type), ...(critical ? [TRUE] : []), octets(value))
}

const keyId = (spki: Buffer) => createHash('sha1').update(spki).digest()

interface Party {
  readonly subject: Buffer
  readonly spki: Buffer
  readonly privateKey: KeyObject
}

function party(fields: { country: string; organization: string; commonName: string }): Party {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { subject: name(fields), spki: publicKey.export({ type: 'spki', format: 'der' }), privateKey }
}

function certificate(subject: Party, issuer: Party, ca: boolean): string {
  const now = Date.now()
  const algorithm = sequence(oid(OID.ecdsaWithSha256))
  const serial = randomBytes(16)
  const extensions = [
    extension(OID.basicConstraints, ca ? sequence(TRUE) : sequence(), true),
    // keyCertSign + cRLSign for the CA; digitalSignature for the bridge.
    extension(OID.keyUsage, ca ? bits(Buffer.from([0x06]), 1) : bits(Buffer.from([0x80]), 7), true),
    ...(ca ? [] : [extension(OID.extKeyUsage, sequence(oid(OID.serverAuth)))]),
    extension(OID.subjectKeyId, octets(keyId(subject.spki))),
    extension(OID.authorityKeyId, sequence(tlv(0x80, keyId(issuer.spki)))),
  ]
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // version 3
    integer(serial),
    algorithm,
    issuer.subject,
    // A day back, so a clock a little behind the simulator's still accepts it; ten years ahead.
    sequence(utcTime(new Date(now - 86_400_000)), utcTime(new Date(now + 10 * 365 * 86_400_000))),
    subject.subject,
    subject.spki,
    explicit(3, sequence(...extensions)),
  )
  const der = sequence(tbs, algorithm, bits(sign('sha256', tbs, issuer.privateKey)))
  const base64 = der.toString('base64').replace(/.{64}/g, '$&\n')
  return `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`
}

/**
 * A fresh CA and a bridge certificate for `bridgeId` (its CN, in lower case, as real bridges have it).
 *
 * @example
 * const { ca, bridge } = bridgeCertificates('001788fffe00a1b2')
 * https.createServer({ cert: bridge.cert, key: bridge.key }, handler) // clients trust `ca`
 */
export function bridgeCertificates(bridgeId: string): BridgeCertificates {
  const root = party({ country: 'NL', organization: 'genlock simulator', commonName: 'genlock simulated Hue root CA' })
  const bridge = party({ country: 'NL', organization: 'genlock simulator', commonName: bridgeId.toLowerCase() })
  return {
    ca: certificate(root, root, true),
    bridge: {
      cert: certificate(bridge, root, false),
      key: bridge.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    },
  }
}

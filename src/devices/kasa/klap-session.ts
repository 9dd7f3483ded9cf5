/**
 * The cryptography of KLAP, the local protocol of newer Kasa firmware (HTTP on port 80 instead of the legacy XOR
 * protocol on 9999), as python-kasa documents it (kasa/transports/klaptransport.py). Both ends use it: the adapter
 * and the simulator. A known-answer test (test/devices/klap-session.test.ts) pins it to values computed by
 * python-kasa's own implementation, so the two ends cannot agree on a mistake.
 *
 * The exchange:
 * 1. `POST /app/handshake1` with a random 16-byte local seed; the device answers its 16-byte remote seed and
 *    `sha256(localSeed + authHash)`, and sets a `TP_SESSIONID` cookie. A client that gets another hash holds the
 *    wrong credentials.
 * 2. `POST /app/handshake2` with `sha256(remoteSeed + authHash)`; 200 when the device agrees.
 * 3. `POST /app/request?seq=<n>` with `signature + AES-128-CBC(JSON)`; the answer is built the same way with the same
 *    sequence number. Key, IV and signature key are derived from both seeds and the auth hash; the sequence number
 *    starts from the derived IV and goes up by one per request.
 */
import { createCipheriv, createDecipheriv, createHash, timingSafeEqual } from 'node:crypto'

function sha256(...parts: Buffer[]): Buffer {
  return createHash('sha256').update(Buffer.concat(parts)).digest()
}

function md5(data: Buffer): Buffer {
  return createHash('md5').update(data).digest()
}

/**
 * The KLAP (version 1, which Kasa bulbs use) auth hash of a TP-Link account: `md5(md5(username) + md5(password))`.
 * A bulb never connected to the TP-Link cloud uses empty credentials.
 */
export function klapAuthHash(username: string, password: string): Buffer {
  return md5(Buffer.concat([md5(Buffer.from(username, 'utf8')), md5(Buffer.from(password, 'utf8'))]))
}

/** What the device answers to handshake1, after its remote seed: proof that it knows `authHash`. */
export function handshake1Proof(localSeed: Buffer, authHash: Buffer): Buffer {
  return sha256(localSeed, authHash)
}

/** What the client sends in handshake2: proof that it knows `authHash`. */
export function handshake2Proof(remoteSeed: Buffer, authHash: Buffer): Buffer {
  return sha256(remoteSeed, authHash)
}

/** Constant-time comparison of two proofs. */
export function sameProof(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/** An established KLAP session's keys: encrypts and decrypts request and answer bodies for a sequence number. */
export class KlapSession {
  private readonly key: Buffer
  private readonly ivPrefix: Buffer
  private readonly signatureKey: Buffer
  /** The sequence number the session started at; the first request uses `initialSeq + 1`. */
  readonly initialSeq: number

  constructor(localSeed: Buffer, remoteSeed: Buffer, authHash: Buffer) {
    this.key = sha256(Buffer.from('lsk'), localSeed, remoteSeed, authHash).subarray(0, 16)
    const iv = sha256(Buffer.from('iv'), localSeed, remoteSeed, authHash)
    this.ivPrefix = iv.subarray(0, 12)
    this.initialSeq = iv.readInt32BE(28)
    this.signatureKey = sha256(Buffer.from('ldk'), localSeed, remoteSeed, authHash).subarray(0, 28)
  }

  /** The sequence number after `seq`: a signed 32-bit counter (it wraps, as the device's does). */
  static next(seq: number): number {
    return (seq + 1) | 0
  }

  /** `signature (32 bytes) + ciphertext` of `plain` under sequence number `seq`. */
  encrypt(plain: Buffer, seq: number): Buffer {
    const cipher = createCipheriv('aes-128-cbc', this.key, this.iv(seq))
    const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()])
    return Buffer.concat([this.signature(seq, ciphertext), ciphertext])
  }

  /**
   * The plain text of a body made by {@link encrypt} with `seq`; throws if the padding is wrong, or the signature
   * unless `verify` is false (clients do not check answers' signatures, as python-kasa does not).
   */
  decrypt(body: Buffer, seq: number, options: { verify?: boolean } = {}): Buffer {
    if (body.length < 48) throw new Error(`a KLAP body is at least 48 bytes, got ${body.length}`)
    const ciphertext = body.subarray(32)
    if (options.verify !== false && !sameProof(body.subarray(0, 32), this.signature(seq, ciphertext))) {
      throw new Error(`KLAP signature mismatch for seq ${seq}`)
    }
    const decipher = createDecipheriv('aes-128-cbc', this.key, this.iv(seq))
    return Buffer.concat([decipher.update(ciphertext), decipher.final()])
  }

  private iv(seq: number): Buffer {
    const iv = Buffer.alloc(16)
    this.ivPrefix.copy(iv)
    iv.writeInt32BE(seq, 12)
    return iv
  }

  private signature(seq: number, ciphertext: Buffer): Buffer {
    const counter = Buffer.alloc(4)
    counter.writeInt32BE(seq)
    return sha256(this.signatureKey, counter, ciphertext)
  }
}

import { describe, expect, it } from 'vitest'
import { handshake1Proof, handshake2Proof, klapAuthHash, KlapSession } from '../../src/devices/kasa/klap-session.js'

/**
 * Known answers computed by python-kasa's own KlapEncryptionSession and handshake hashes (kasa/transports/
 * klaptransport.py, run once with these inputs), so our client and our simulator, which share this code, are pinned
 * to the protocol real bulbs speak rather than only to each other.
 */
const LOCAL_SEED = Buffer.from([...Array(16).keys()])
const REMOTE_SEED = Buffer.from([...Array(16).keys()].map((i) => 100 + i))
const REQUEST = '{"system":{"get_sysinfo":{}}}'

describe('KLAP session cryptography (python-kasa known answers)', () => {
  const auth = klapAuthHash('user@example.com', 'secret')

  it('derives the auth hash, empty credentials included', () => {
    expect(auth.toString('hex')).toBe('9d6ce791ce44316e9e52fc1bc9d36496')
    expect(klapAuthHash('', '').toString('hex')).toBe('5873dd45edd01f09c1ef2e7819369e8e')
  })

  it('computes both handshake proofs', () => {
    expect(handshake1Proof(LOCAL_SEED, auth).toString('hex')).toBe(
      'c2d456076f946c707000874d2e226a1c09e89a21e459272b8ec0f01cdaf774cf',
    )
    expect(handshake2Proof(REMOTE_SEED, auth).toString('hex')).toBe(
      'da670547fdea58b7c8fa92720e4b1c9ea8ad0013cafc5c36d2327cb9d2e7eb7c',
    )
  })

  it('starts the sequence where python-kasa does and encrypts the first request to the same bytes', () => {
    const session = new KlapSession(LOCAL_SEED, REMOTE_SEED, auth)
    expect(session.initialSeq).toBe(1518256670)
    const seq = KlapSession.next(session.initialSeq)
    const body = session.encrypt(Buffer.from(REQUEST), seq)
    expect(body.toString('hex')).toBe(
      'fee06f7321c05429a63a2c88d0437251559c832035e80eac597ec390af23408d' +
        'ad01a5b6977828dfe46080b37ef387a383ad52c4d8b17376d8552682cde92874',
    )
    expect(session.decrypt(body, seq).toString()).toBe(REQUEST)
  })

  it('refuses a body whose signature does not match its sequence number', () => {
    const session = new KlapSession(LOCAL_SEED, REMOTE_SEED, auth)
    const body = session.encrypt(Buffer.from(REQUEST), 7)
    expect(() => session.decrypt(body, 8)).toThrow('KLAP signature mismatch for seq 8')
  })

  it('wraps the sequence number as a signed 32-bit counter', () => {
    expect(KlapSession.next(2_147_483_647)).toBe(-2_147_483_648)
  })
})

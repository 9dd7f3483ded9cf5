import { connect as tcpConnect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { hashPassword, loginChecker } from '../../src/config/password-hash.js'
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/mqtt/index.js'
import { freePort } from '../support/services.js'
import { RawMqtt } from './raw-mqtt.js'

let broker: EmbeddedBroker | undefined
afterEach(async () => {
  await broker?.close()
  broker = undefined
})

const CONNACK = { accepted: 0, badUsernameOrPassword: 4, notAuthorized: 5 }

async function loginAs(options: { username?: string; password?: string }): Promise<number> {
  const raw = await RawMqtt.open(broker!.port)
  try {
    return await raw.login(`c${Math.random().toString(16).slice(2)}`, options)
  } finally {
    raw.destroy()
  }
}

describe('embedded broker: logins', () => {
  it('refuses to listen beyond loopback without logins, and leaves nothing listening', async () => {
    const port = await freePort()
    await expect(startEmbeddedBroker({ port, host: '0.0.0.0' })).rejects.toThrow(
      /embedded MQTT broker on 0\.0\.0\.0:\d+ would let other machines in without logging in/,
    )
    const refused = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(false)
      })
      socket.once('error', () => resolve(true))
    })
    expect(refused).toBe(true)
  })

  it('lets anyone in on loopback when it has no logins (as Mosquitto 2 does)', async () => {
    broker = await startEmbeddedBroker({ port: 0 })
    expect(await loginAs({})).toBe(CONNACK.accepted)
  })

  it('with logins: refuses anonymous clients and wrong passwords, accepts the right ones; logs no password', async () => {
    const lines: { fields: object; message?: string }[] = []
    const log = (fields: object, message?: string) => lines.push({ fields, message })
    broker = await startEmbeddedBroker({
      port: 0,
      host: '0.0.0.0',
      authenticate: loginChecker([
        { username: 'genlock', password: 'own-secret' },
        { username: 'homeassistant', passwordHash: await hashPassword('ha-secret') },
      ]),
      logger: { debug: log, info: log, warn: log, error: log },
    })
    expect(await loginAs({})).toBe(CONNACK.notAuthorized)
    expect(await loginAs({ username: 'homeassistant', password: 'wrong-guess' })).toBe(CONNACK.badUsernameOrPassword)
    expect(await loginAs({ username: 'mallory', password: 'ha-secret' })).toBe(CONNACK.badUsernameOrPassword)
    expect(await loginAs({ username: 'homeassistant', password: 'ha-secret' })).toBe(CONNACK.accepted)
    expect(await loginAs({ username: 'genlock', password: 'own-secret' })).toBe(CONNACK.accepted)
    const logged = JSON.stringify(lines)
    expect(logged).toContain('mqtt login refused: wrong username or password')
    expect(logged).toContain('mqtt client without username and password refused')
    for (const secret of ['wrong-guess', 'ha-secret', 'own-secret']) expect(logged).not.toContain(secret)
  })
})

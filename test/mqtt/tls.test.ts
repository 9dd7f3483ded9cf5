import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MqttConnection } from '../../src/mqtt/connection.js'
import type { MqttLogger } from '../../src/mqtt/logger.js'
import type { ServiceProcess } from '../support/services.js'
import { makeCertificates, startSecureMosquitto, type TestCertificates } from './secure-broker.js'

describe('MqttConnection over mqtts:// with a client certificate and a password', () => {
  let certs: TestCertificates
  let broker: ServiceProcess & { url: string }
  const user = { username: 'genlock', password: 'correct horse battery staple' }

  beforeAll(async () => {
    certs = makeCertificates()
    broker = await startSecureMosquitto(certs, user)
  })
  afterAll(async () => {
    await broker.dispose()
    rmSync(certs.dir, { recursive: true, force: true })
  })

  it('connects, round-trips a message, and never logs the password', async () => {
    const logged: string[] = []
    const record = (fields: object, message?: string) => logged.push(`${message} ${JSON.stringify(fields)}`)
    const logger: MqttLogger = { debug: record, info: record, warn: record, error: record }
    const bus = await MqttConnection.open({
      url: broker.url,
      username: user.username,
      password: user.password,
      clientId: 'tls-test',
      baseTopic: 'tls',
      ca: certs.ca,
      cert: certs.clientCert,
      key: certs.clientKey,
      logger,
    })
    const got = new Promise<string>((resolve) => bus.subscribe('tls/echo', (m) => resolve(m.payload.toString())))
    await bus.publish('tls/echo', 'over TLS', { qos: 1 })
    expect(await got).toBe('over TLS')
    await bus.close()
    expect(logged.some((line) => line.includes('mqtt connected'))).toBe(true)
    expect(logged.join('\n')).not.toContain('horse')
  })

  it('fails at once, naming the user, when the broker refuses the password', async () => {
    const opening = MqttConnection.open({
      url: broker.url,
      clientId: 'tls-wrong-password',
      baseTopic: 'tls',
      username: user.username,
      password: 'wrong',
      ca: certs.ca,
      cert: certs.clientCert,
      key: certs.clientKey,
    })
    await expect(opening).rejects.toThrow(/refused user 'genlock'/)
    await expect(opening).rejects.not.toThrow(/wrong/)
  })
})

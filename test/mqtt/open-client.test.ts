/**
 * openMqttClient builds mqtt:// and mqtts:// clients without mqtt.js's connect() (which loads the WebSocket
 * transport at every first connect, issue 18). It must connect where and as connect() would: compared here
 * option by option against connect() itself, on URLs that point nowhere (nothing listens on port 1).
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { openMqttClient } from '../../src/mqtt/open-client.js'

const clients: MqttClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.endAsync(true)))
})

const FIELDS = ['protocol', 'host', 'hostname', 'port', 'username', 'password', 'clientId', 'servername'] as const

function derived(open: (url: string, options: IClientOptions) => MqttClient, url: string, options: IClientOptions) {
  const client = open(url, { reconnectPeriod: 0, connectTimeout: 1000, clientId: 'test', ...options })
  clients.push(client)
  return Object.fromEntries(FIELDS.map((field) => [field, client.options[field]]))
}

describe('openMqttClient', () => {
  it.each([
    ['mqtt://127.0.0.1:1', {}],
    ['mqtt://127.0.0.1:1', { clientId: 'genlock', username: 'u', password: 'p' }],
    ['mqtt://localhost:1?clientId=from-url', { clientId: 'genlock' }],
    ['mqtt://ha%40home:s%3Acret@127.0.0.1:1', { username: 'other', password: 'other' }],
    ['mqtt://onlyuser@127.0.0.1:1', {}],
    ['mqtt://[::1]:1', {}],
    ['mqtts://127.0.0.1:1', { rejectUnauthorized: false }],
    ['mqtts://localhost:1', { username: 'u', password: 'p' }],
  ] as const)('%s %o: what connect() would use', (url, options) => {
    expect(derived(openMqttClient, url, options)).toEqual(derived(connect, url, options))
  })
})

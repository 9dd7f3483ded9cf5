/**
 * Issue 13.12: `mqtt error: write after end` was logged at ERROR on a clean stop. A QoS 1 message the broker had
 * already sent arrives after genlock ended its side of the socket; mqtt.js acknowledges it on the ended socket.
 * Nothing is lost (the persistent session redelivers it), so a clean stop logs no error.
 */
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MqttConnection } from '../../src/mqtt/index.js'
import { PARTY, simBulb, writeSetup } from '../cli/setup-files.js'
import { builtCli, startBuiltDaemon } from '../support/built-genlock.js'
import { LatePublishBroker } from './late-publish-broker.js'

let broker: LatePublishBroker
const dirs: string[] = []
beforeAll(async () => {
  ;[broker] = await Promise.all([LatePublishBroker.start(), builtCli()])
}, 180_000)
afterAll(async () => {
  await broker?.close()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('a clean stop while a QoS 1 message is still on its way', () => {
  it('MqttConnection.close() logs no error', async () => {
    const logged: { level: string; fields: object; message?: string }[] = []
    const at = (level: string) => (fields: object, message?: string) => logged.push({ level, fields, message })
    const connection = await MqttConnection.open({
      url: broker.url,
      clientId: 'clean-stop',
      baseTopic: 'cleanstop',
      logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    })
    connection.subscribe('home/party', () => undefined)
    await connection.settled()
    const before = broker.latePublishes
    connection.beginClose()
    await connection.close()
    expect(broker.latePublishes).toBe(before + 1)
    expect(logged.filter((entry) => entry.level === 'error')).toEqual([])
  })

  it('the built daemon stops on SIGTERM with exit 0 and no ERROR line', async () => {
    const { dir, configFile } = writeSetup({
      config: `mqtt: { url: "${broker.url}", client_id: clean_stop_daemon }\nlog: { level: debug, pretty: false }\n`,
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
      automations: { 'party.yaml': PARTY },
    })
    dirs.push(dir)
    const before = broker.latePublishes
    const daemon = await startBuiltDaemon(configFile)
    await daemon.ready()
    expect((await daemon.stop()).code).toBe(0)
    expect(broker.latePublishes).toBe(before + 1)
    expect(daemon.logs.filter((entry) => entry.level >= 50)).toEqual([])
  }, 60_000)
})

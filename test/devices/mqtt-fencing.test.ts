/**
 * Issue 13.1 over MQTT: "after a broker outage, three queued party commands were flushed at reconnect after party
 * had already failed". A command waiting for the broker is checked against its lease when the broker is back, and
 * withdrawn if the lease went meanwhile; the MQTT client never keeps a light command to flush at reconnect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DeviceLogger } from '../../src/devices/logger.js'
import { MqttBulb } from '../../src/devices/mqtt/mqtt-bulb.js'
import { zigbee2mqttProtocol } from '../../src/devices/mqtt/zigbee2mqtt.js'
import genLock, { type LockError } from '../../src/index.js'
import { MqttConnection } from '../../src/mqtt/connection.js'
import { Zigbee2MqttLights } from '../../src/simulators/zigbee2mqtt-lights.js'
import { startMosquitto, type ServiceProcess } from '../support/services.js'

/** A logger that lets the test wait for a message. */
function messages() {
  const seen: string[] = []
  const waiters = new Set<{ match: RegExp; resolve: () => void }>()
  const log = (_object: object, message?: string) => {
    if (message === undefined) return
    seen.push(message)
    for (const waiter of waiters) {
      if (!waiter.match.test(message)) continue
      waiters.delete(waiter)
      waiter.resolve()
    }
  }
  const logger: DeviceLogger = { debug: log, info: log, warn: log, error: log }
  const next = (match: RegExp) =>
    seen.some((message) => match.test(message))
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.add({ match, resolve }))
  return { logger, next, seen }
}

describe('a fenced MQTT light command across a broker outage', () => {
  let mosquitto: ServiceProcess & { url: string }
  let lights: Zigbee2MqttLights
  let connection: MqttConnection | undefined
  let bulb: MqttBulb | undefined

  beforeAll(async () => {
    mosquitto = await startMosquitto()
    lights = await Zigbee2MqttLights.start({ url: mosquitto.url, count: 1 })
  })
  afterAll(async () => {
    await bulb?.stop()
    await connection?.close()
    await lights?.stop()
    await mosquitto?.dispose()
  })

  it('withdraws a preempted command that waited for the broker: at reconnect only the new holder’s is sent', async () => {
    const mqttLog = messages()
    const deviceLog = messages()
    connection = await MqttConnection.open({
      url: mosquitto.url,
      clientId: `fencing-${process.pid}`,
      baseTopic: `fencing${process.pid}`,
      // Back well after the light (which retries every second): a command published before the light has
      // resubscribed would be lost, and the light's own re-announcement taken for its answer.
      reconnectDelay: 3000,
      maxReconnectDelay: 3000,
      logger: mqttLog.logger,
    })
    const topic = lights.topics[0]!
    bulb = new MqttBulb({
      id: 'bath_bulb',
      capabilities: { dimmable: true, color: true },
      link: connection,
      protocol: zigbee2mqttProtocol(topic),
      topic,
      queue: { timeoutMs: 1000, retries: 3 },
      logger: deviceLog.logger,
    })
    await bulb.start()
    await bulb.setPower(true)
    const received: Record<string, unknown>[] = []
    let arrived: (() => void) | undefined
    lights.onCommand((_name, command) => {
      received.push(command)
      arrived?.()
    })

    await mosquitto.stop()
    await mqttLog.next(/connection lost/)
    const lock = genLock()
    let blue: Promise<unknown> | undefined
    const party = lock
      .newLocker('bath_bulb', bulb)
      .promise(function* (light) {
        blue = light.setColor('blue').catch((error: unknown) => error)
        yield blue
      })
      .catch((error: unknown) => error)
    await deviceLog.next(/broker is away; the command waits for it/)
    const alarm = lock.newLocker('bath_bulb', bulb, { priority: 1 }).promise(function* (light) {
      return yield light.setColor('red')
    })
    expect(await party).toMatchObject({ code: 'PREEMPTED' })
    expect(await blue).toMatchObject({ code: 'FENCED' })
    expect((await blue) as LockError).toHaveProperty('message', expect.stringMatching(/did not reach the resource/))

    const lightBack = new Promise<void>((resolve) => lights.onReconnect(resolve))
    await mosquitto.start()
    await lightBack
    expect(await alarm).toMatchObject({ on: true, reachable: true })
    // The answer may be the light's retained state, handed over as we resubscribe: wait for the command itself.
    const colours = () => received.filter((command) => command.color !== undefined)
    while (colours().length === 0) await new Promise<void>((resolve) => (arrived = resolve))
    // Only red reached the light (xy of red: x ≈ 0.7; of blue: x ≈ 0.15), never the party's blue.
    expect(colours().map((command) => (command.color as { x: number }).x > 0.6)).toEqual(colours().map(() => true))
  })
})

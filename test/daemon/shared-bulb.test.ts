/**
 * Two daemons drive one real (simulated Zigbee2MQTT) light through one Redis: the alarm on daemon B preempts
 * the party on daemon A, and the light itself — the one place both daemons' commands meet — never gets a party
 * command while the alarm holds it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Zigbee2MqttLights } from '../../src/simulators/zigbee2mqtt-lights.js'
import { ALARM, PARTY } from '../cli/setup-files.js'
import { Observer } from '../mqtt/observer.js'
import { startMosquitto, startRedis, type ServiceProcess } from '../support/services.js'
import { startTestDaemon, type TestDaemon } from './harness.js'

type Command = Record<string, unknown>

/** The party sends brightness 80 % (203 of 254) or colour alone; the alarm always sends 50 % or 100 %. */
const isAlarmCommand = (command: Command) => command.brightness === 127 || command.brightness === 254

describe('two daemons sharing one bulb through Redis', () => {
  let mosquitto: ServiceProcess & { url: string }
  let redis: ServiceProcess & { url: string }
  let lights: Zigbee2MqttLights
  let home: Observer
  const daemons: TestDaemon[] = []

  beforeAll(async () => {
    ;[mosquitto, redis] = await Promise.all([startMosquitto(), startRedis()])
    lights = await Zigbee2MqttLights.start({ url: mosquitto.url, count: 1 })
    home = await Observer.connect(mosquitto.url, [])
  })
  afterAll(async () => {
    for (const t of daemons) await t.daemon.stop()
    await lights?.stop()
    await home?.close()
    await Promise.all([mosquitto?.dispose(), redis?.dispose()])
  })

  it('never lets the party reach the bulb while the alarm on the other daemon holds it', async () => {
    const received: Command[] = []
    const waiters: { match: (c: Command[]) => boolean; resolve: () => void }[] = []
    lights.onCommand((_name, command) => {
      received.push(command)
      for (const waiter of waiters.splice(0)) {
        if (waiter.match(received)) waiter.resolve()
        else waiters.push(waiter)
      }
    })
    const until = (match: (c: Command[]) => boolean) =>
      match(received) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ match, resolve }))

    const locks = `locks: { backend: redis, url: "${redis.url}", key_prefix: shared_bulb }\n`
    // Each daemon sees the other's commands as changes made outside it: on a shared bulb they must not hold it.
    const devices = {
      'bath_bulb.yaml': `id: bath_bulb\nadapter: mqtt\ntopic: ${lights.topics[0]}\noutside_changes: ignore\n`,
    }
    // The automations, their waits shortened so the test takes a second rather than ten.
    const fast = (yaml: string) => yaml.replace('wait: 1s', 'wait: 40ms').replaceAll(/wait: (1s|500ms)/g, 'wait: 40ms')
    const party = await startTestDaemon(mosquitto.url, { devices, automations: { 'party.yaml': fast(PARTY) } }, locks)
    daemons.push(party)
    const alarm = await startTestDaemon(mosquitto.url, { devices, automations: { 'alarm.yaml': fast(ALARM) } }, locks)
    daemons.push(alarm)

    await home.client.publishAsync('home/party', 'ON', { qos: 1 })
    await until((c) => c.filter((command) => !isAlarmCommand(command)).length >= 4)
    await home.client.publishAsync('home/alarm', 'ON', { qos: 1 })
    await until((c) => c.filter(isAlarmCommand).length >= 6)
    const alarmEnds = received.length
    await home.client.publishAsync('home/alarm', 'OFF', { qos: 1 })
    await until((c) => c.slice(alarmEnds).some((command) => !isAlarmCommand(command)))

    const firstAlarm = received.findIndex(isAlarmCommand)
    const underAlarm = received.slice(firstAlarm, alarmEnds)
    expect(underAlarm.length).toBeGreaterThanOrEqual(6)
    expect(underAlarm.filter((command) => !isAlarmCommand(command))).toEqual([])
    // And the party came back on the other daemon in its own look, then at the step after the one it was on
    // (red → blue → yellow).
    const cycle = received.slice(0, 3).map((command) => JSON.stringify(command.color))
    const lastPartyStep = cycle.indexOf(JSON.stringify(received[firstAlarm - 1]!.color))
    await until((c) => c.slice(alarmEnds).filter((command) => !isAlarmCommand(command)).length >= 2)
    const [look, next] = received.slice(alarmEnds).filter((command) => !isAlarmCommand(command))
    // The look is the colour the light reported back, re-sent: the same xy give or take rounding.
    const xy = (text: string | undefined) => JSON.parse(text ?? 'null') as { x: number; y: number }
    const was = xy(cycle[lastPartyStep])
    const sent = look!.color as { x: number; y: number }
    expect(Math.hypot(sent.x - was.x, sent.y - was.y)).toBeLessThan(0.01)
    expect(JSON.stringify(next!.color)).toBe(cycle[(lastPartyStep + 1) % 3])
  })
})

/**
 * Issue 13.10: after `kill -9` mid-alarm the bulb stayed red at 50 % and the retained topics said `alarm: running`
 * until someone looked. genlock keeps the runs going and their bulbs' states before (data_dir/runs.json, written
 * atomically); the next start puts back what a crashed run left and publishes the true run states.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Zigbee2MqttLights, type SimulatedZigbeeLight } from '../../src/simulators/zigbee2mqtt-lights.js'
import { ALARM, writeSetup } from '../cli/setup-files.js'
import { Observer } from '../mqtt/observer.js'
import { startMosquitto, type ServiceProcess } from '../support/services.js'
import { DaemonProcess } from './daemon-process.js'

let mosquitto: ServiceProcess & { url: string }
let lights: Zigbee2MqttLights
let home: Observer
const daemons: DaemonProcess[] = []

beforeAll(async () => {
  mosquitto = await startMosquitto()
  lights = await Zigbee2MqttLights.start({ url: mosquitto.url, names: [`crash_${process.pid}`] })
  home = await Observer.connect(mosquitto.url, ['crash/#', 'crash2/#'])
})
afterAll(async () => {
  for (const daemon of daemons) await daemon.stop('SIGKILL')
  await home?.close()
  await lights?.stop()
  await mosquitto?.dispose()
})

/** Resolves once the light's state passes `test` (checked now and after each command it takes). */
function lightState(light: SimulatedZigbeeLight, test: (state: Record<string, unknown>) => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (test(light.state)) return resolve()
    const off = light.onCommand(() => {
      if (!test(light.state)) return
      off()
      resolve()
    })
  })
}

describe('a daemon killed mid-alarm', () => {
  it('puts the bulb back at the next start and says the alarm is idle again', async () => {
    const light = lights.lights[0]!
    // Before the alarm: on at 40 %, warm white.
    await light.changeFromApp({ state: 'ON', brightness: 102, color_mode: 'color_temp', color_temp: 370 })
    const { dir, configFile } = writeSetup({
      config: `mqtt: { url: "${mosquitto.url}", base_topic: crash, client_id: crash_${process.pid} }\n`,
      devices: { 'bath_bulb.yaml': `id: bath_bulb\nadapter: mqtt\ntopic: ${light.topic}\n` },
      automations: { 'alarm.yaml': ALARM.replaceAll('wait: 500ms', 'wait: 100ms') },
    })
    const first = DaemonProcess.start(configFile)
    daemons.push(first)
    await first.ready()

    const alarmCommands = () => light.requests.filter((request) => request.command.brightness === 127).length
    const before = alarmCommands()
    await home.client.publishAsync('home/alarm', 'ON', { qos: 1 })
    await lightState(light, () => alarmCommands() >= before + 2)
    await home.waitFor((m) => m.topic === 'crash/automation/alarm' && JSON.parse(m.payload).state === 'running')
    // What the next start needs is on disk while the alarm runs.
    const journal = JSON.parse(readFileSync(join(dir, 'data', 'runs.json'), 'utf8'))
    const saved = journal.automations.alarm.devices.bath_bulb
    expect(saved).toMatchObject({ on: true, brightness: 40 })
    expect(Math.abs(saved.colorTemp - 2700)).toBeLessThan(10)

    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL')
    expect(light.state).toMatchObject({ state: 'ON', color_mode: 'xy' })

    const from = home.mark
    const second = DaemonProcess.start(configFile)
    daemons.push(second)
    const crashed = await second.waitForLog((entry) => String(entry.msg).startsWith('alarm was running'))
    expect(crashed.msg).toBe(
      'alarm was running when genlock last stopped without ending it; putting bath_bulb back as before it',
    )
    await second.waitForLog((entry) => entry.msg === 'restored bath_bulb')
    await lightState(light, (state) => state.state === 'ON' && state.color_mode === 'color_temp')
    expect(light.state).toMatchObject({ brightness: 102, color_temp: 370 })
    // The retained run state is the truth again.
    await home.waitFor((m) => m.topic === 'crash/automation/alarm' && JSON.parse(m.payload).state === 'idle', from)

    // A clean stop leaves nothing for the next start to put back.
    expect((await second.stop('SIGTERM')).code).toBe(0)
    expect(existsSync(join(dir, 'data', 'runs.json'))).toBe(true)
    expect(JSON.parse(readFileSync(join(dir, 'data', 'runs.json'), 'utf8'))).toEqual({ version: 1, automations: {} })
  })

  it('clears the retained state of a crashed automation whose file is gone, and still puts its bulb back', async () => {
    const light = lights.lights[0]!
    await light.changeFromApp({ state: 'ON', brightness: 51, color_mode: 'color_temp', color_temp: 250 })
    const { dir, configFile } = writeSetup({
      config: `mqtt: { url: "${mosquitto.url}", base_topic: crash2, client_id: crash2_${process.pid} }\n`,
      devices: { 'bath_bulb.yaml': `id: bath_bulb\nadapter: mqtt\ntopic: ${light.topic}\n` },
      automations: { 'alarm.yaml': ALARM.replaceAll('wait: 500ms', 'wait: 100ms') },
    })
    const first = DaemonProcess.start(configFile)
    daemons.push(first)
    await first.ready()
    await home.client.publishAsync('home/alarm', 'ON', { qos: 1 })
    await home.waitFor((m) => m.topic === 'crash2/automation/alarm' && JSON.parse(m.payload).state === 'running')
    await lightState(light, (state) => state.color_mode === 'xy')
    await first.stop('SIGKILL')

    rmSync(join(dir, 'automations', 'alarm.yaml'))
    const from = home.mark
    const second = DaemonProcess.start(configFile)
    daemons.push(second)
    await second.waitForLog((entry) => entry.msg === 'restored bath_bulb')
    await lightState(light, (state) => state.color_mode === 'color_temp')
    expect(light.state).toMatchObject({ state: 'ON', brightness: 51, color_temp: 250 })
    const cleared = await home.waitFor((m) => m.topic === 'crash2/automation/alarm', from)
    expect(cleared.payload).toBe('')
    expect((await second.stop('SIGTERM')).code).toBe(0)
  })
})

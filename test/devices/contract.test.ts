import { afterAll, beforeAll } from 'vitest'
import { startMosquitto } from '../support/services.js'
import { runBulbContract } from './contract/bulb-contract.js'
import { hueHarness, kasaHarness, mqttHarness, simHarness } from './contract/harnesses.js'
import { runOutsideChangeContract } from './contract/outside-change-contract.js'

let broker: Awaited<ReturnType<typeof startMosquitto>> | undefined
beforeAll(async () => {
  broker = await startMosquitto()
})
afterAll(async () => {
  await broker?.dispose()
})

runBulbContract('sim', simHarness)
runBulbContract('hue', hueHarness, { reports: true })
runBulbContract('kasa (legacy)', kasaHarness('legacy'))
runBulbContract('kasa (KLAP)', kasaHarness('klap'))
const zigbee2mqttHarness = mqttHarness(() => broker!.url)
runBulbContract('mqtt', zigbee2mqttHarness)

runOutsideChangeContract('sim', simHarness)
runOutsideChangeContract('hue', hueHarness)
runOutsideChangeContract('kasa (legacy)', kasaHarness('legacy'))
runOutsideChangeContract('kasa (KLAP)', kasaHarness('klap'))
runOutsideChangeContract('mqtt', zigbee2mqttHarness)

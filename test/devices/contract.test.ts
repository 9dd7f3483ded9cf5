import { afterAll, beforeAll } from 'vitest'
import { startMosquitto } from '../support/services.js'
import { runBulbContract } from './contract/bulb-contract.js'
import { hueHarness, kasaHarness, mqttHarness, simHarness } from './contract/harnesses.js'

let broker: Awaited<ReturnType<typeof startMosquitto>> | undefined
beforeAll(async () => {
  broker = await startMosquitto()
})
afterAll(async () => {
  await broker?.dispose()
})

runBulbContract('sim', simHarness)
runBulbContract('hue', hueHarness, { reports: true })
runBulbContract('kasa', kasaHarness)
runBulbContract(
  'mqtt',
  mqttHarness(() => broker!.url),
)

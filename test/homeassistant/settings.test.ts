/** The `homeassistant` key of config.yaml, and what each setting does to a running daemon on a real mosquitto. */
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/config.js'
import { ConfigError } from '../../src/config/problems.js'
import type { SimCommandLogEntry } from '../../src/devices/index.js'
import { ALARM, simBulb, writeSetup } from '../cli/setup-files.js'
import type { Seen } from '../mqtt/observer.js'
import { haTestBed } from './support.js'

const configFile = (config: string) => writeSetup({ config }).configFile

describe('homeassistant settings in config.yaml', () => {
  it('turns discovery on by default with an external broker, off with the embedded one', () => {
    expect(loadConfig(configFile('mqtt: { url: "mqtt://127.0.0.1:1883" }\n')).homeassistant).toEqual({
      discovery: true,
      prefix: 'homeassistant',
      manualPriority: 100,
    })
    expect(loadConfig(configFile('mqtt: { embedded: true }\n')).homeassistant.discovery).toBe(false)
    const set = loadConfig(
      configFile(
        'mqtt: { embedded: true }\nhomeassistant: { discovery: true, prefix: hass/disc, manual_priority: 250 }\n',
      ),
    )
    expect(set.homeassistant).toEqual({ discovery: true, prefix: 'hass/disc', manualPriority: 250 })
  })

  it('reports a bad prefix or priority with file:line:col and field', () => {
    const file = configFile('mqtt: { embedded: true }\nhomeassistant:\n  prefix: "ha/#"\n  manual_priority: high\n')
    let problems: string[] = []
    try {
      loadConfig(file)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      problems = error.message.split('\n')
    }
    expect(problems.some((line) => line.includes(':3:') && line.includes('homeassistant.prefix'))).toBe(true)
    expect(problems.some((line) => line.includes(':4:') && line.includes('homeassistant.manual_priority'))).toBe(true)
  })
})

describe('homeassistant settings in a running daemon', () => {
  const bed = haTestBed(['#'])

  it('publishes nothing for Home Assistant with discovery: false', async () => {
    const from = bed.ha.mark
    const running = await bed.start(
      { devices: { 'bath_bulb.yaml': simBulb('bath_bulb') }, automations: { 'alarm.yaml': ALARM } },
      'homeassistant: { discovery: false }\n',
    )
    // One connection's messages arrive in order: anything published at start came before this marker.
    const marker = `${running.baseTopic}/test/marker`
    await running.daemon.bus.publish(marker, 'done', { qos: 1 })
    await bed.ha.waitFor((m) => m.topic === marker, from)
    const seen = bed.ha.seen.slice(from)
    expect(seen.some((m) => m.topic === `${running.baseTopic}/automation/alarm`)).toBe(true)
    const forHa = (m: Seen) => m.topic.endsWith('/config') || m.topic.includes('/light')
    expect(seen.filter(forHa)).toEqual([])
  })

  it('uses the configured prefix and lets manual_priority above the alarm take the bulb from it', async () => {
    const from = bed.ha.mark
    const genlock = await bed.start(
      { devices: { 'bath_bulb.yaml': simBulb('bath_bulb') }, automations: { 'alarm.yaml': ALARM } },
      'homeassistant: { prefix: hass/disc, manual_priority: 250 }\n',
    )
    const { baseTopic } = genlock
    const light = await bed.ha.waitFor(
      (m) => m.topic.startsWith('hass/disc/light/') && m.payload.includes(baseTopic),
      from,
    )
    expect(light.topic).toMatch(/^hass\/disc\/light\/[a-zA-Z0-9_-]+\/config$/)

    const birth = bed.ha.mark
    await bed.ha.publish('hass/disc/status', 'online')
    await bed.ha.waitFor((m) => m.topic === light.topic, birth)

    const bulb = genlock.bulb('bath_bulb')
    const by = (holder: string) => (entry: SimCommandLogEntry) => entry.origin?.holder === holder
    await bed.ha.publish('home/alarm', 'ON')
    await bulb.nextCommand(by('alarm'))
    const manual = bulb.nextCommand(by('manual'))
    await bed.ha.publish(JSON.parse(light.payload).command_topic, '{"state":"OFF"}')
    expect((await manual).state.on).toBe(false)
    const status = await bed.ha.waitFor(
      (m) => m.topic === `${baseTopic}/automation/alarm` && JSON.parse(m.payload).state === 'suspended',
      from,
    )
    expect(JSON.parse(status.payload).state).toBe('suspended')
  })
})

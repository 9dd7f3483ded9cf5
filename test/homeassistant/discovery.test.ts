/**
 * The test plays Home Assistant on a real mosquitto: it reads genlock's discovery configs the way HA's MQTT
 * integration does, uses the entities' topics, restarts (birth message), and watches entities go on hot reload.
 */
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALARM, PARTY, simBulb } from '../cli/setup-files.js'
import { Observer, type Seen } from '../mqtt/observer.js'
import { startMosquitto, type ServiceProcess } from '../support/services.js'
import { discoveryProblems, startHaDaemon, type HaTestDaemon } from './support.js'

const WHITE_BULB = `id: hall_light
adapter: sim
name: Hall light
capabilities: { dimmable: true, color: false, colorTemp: { min: 2700, max: 6500 } }
`

describe('Home Assistant discovery over a real mosquitto', () => {
  let mosquitto: ServiceProcess & { url: string }
  let ha: Observer
  let genlock: HaTestDaemon
  let configs: Map<string, Record<string, unknown>>

  /** Every discovery config of this genlock (by topic), once `count` of them have arrived since `from`. */
  async function discovered(count: number, from = 0): Promise<Map<string, Record<string, unknown>>> {
    const ours = (m: Seen) => m.topic.endsWith('/config') && m.payload.includes(`"${genlock.baseTopic}/status"`)
    while (ha.seen.slice(from).filter(ours).length < count) await ha.waitFor(ours, ha.mark)
    return new Map(
      ha.seen
        .slice(from)
        .filter(ours)
        .map((m) => [m.topic, JSON.parse(m.payload)]),
    )
  }

  const findConfig = (component: string, uniqueIdPart: string): [string, Record<string, unknown>] => {
    const found = [...configs].find(
      ([topic, config]) =>
        topic.startsWith(`homeassistant/${component}/`) && String(config['unique_id']).includes(uniqueIdPart),
    )
    if (!found) throw new Error(`no ${component} config with ${uniqueIdPart}`)
    return found
  }

  const jsonOn = (topic: string, test: (body: Record<string, unknown>) => boolean, from = 0) =>
    ha.waitFor((m) => m.topic === topic && m.payload !== '' && test(JSON.parse(m.payload)), from)

  beforeAll(async () => {
    mosquitto = await startMosquitto()
    ha = await Observer.connect(mosquitto.url, ['homeassistant/#', '+/#'])
    genlock = await startHaDaemon(mosquitto.url, {
      devices: {
        'bath_bulb.yaml': simBulb('bath_bulb'),
        'hall_light.yaml': WHITE_BULB,
      },
      automations: { 'party.yaml': PARTY, 'alarm.yaml': ALARM },
    })
    configs = await discovered(12)
  })

  afterAll(async () => {
    await genlock?.daemon.stop()
    await ha?.close()
    await mosquitto?.dispose()
  })

  it('publishes a retained config per entity with every field Home Assistant needs', () => {
    const components = [...configs.keys()].map((topic) => topic.split('/')[1]).sort()
    // Per automation a switch and a sensor, per bulb a light, a sensor and a release button, and genlock's two
    // health sensors.
    expect(components).toEqual(['button', 'button', 'light', 'light', ...Array(6).fill('sensor'), 'switch', 'switch'])
    for (const [topic, config] of configs) {
      expect(topic).toMatch(/^homeassistant\/(switch|sensor|light|button)\/[a-zA-Z0-9_-]+\/config$/)
      expect(discoveryProblems(topic.split('/')[1]!, config), topic).toEqual([])
    }
    const uniqueIds = [...configs.values()].map((config) => config['unique_id'])
    expect(new Set(uniqueIds).size).toBe(uniqueIds.length)
  })

  it('keeps the configs retained, so Home Assistant starting later still finds them', async () => {
    const late = await Observer.connect(mosquitto.url, ['homeassistant/#'])
    try {
      const ours = (m: Seen) => configs.has(m.topic)
      while (late.seen.filter(ours).length < configs.size) await late.waitFor(ours, late.mark)
      expect(late.seen.filter(ours).every((m) => m.retain)).toBe(true)
    } finally {
      await late.close()
    }
  })

  it('points the switch at the automation command topic and reads its JSON state with a template', () => {
    const [, party] = findConfig('switch', '_automation_switch_party')
    expect(party['command_topic']).toBe(`${genlock.baseTopic}/automation/party/set`)
    expect(party['state_topic']).toBe(`${genlock.baseTopic}/automation/party`)
    expect(party['value_template']).toContain('value_json.state')
    const [, state] = findConfig('sensor', '_automation_state_party')
    expect(state['options']).toEqual(['idle', 'waiting', 'running', 'suspended'])
    const [, holder] = findConfig('sensor', '_holder_bath_bulb')
    expect(holder['state_topic']).toBe(`${genlock.baseTopic}/device/bath_bulb`)
  })

  it('announces each light with the colour modes its bulb supports', () => {
    const [, colour] = findConfig('light', '_light_bath_bulb')
    expect(colour['supported_color_modes']).toEqual(['color_temp', 'rgb'])
    expect(colour).toMatchObject({ color_temp_kelvin: true, min_kelvin: 2000, max_kelvin: 6500, brightness: true })
    const [, white] = findConfig('light', '_light_hall_light')
    expect(white['supported_color_modes']).toEqual(['color_temp'])
    expect(white['device']).toMatchObject({ name: 'Hall light', model: 'sim bulb' })
  })

  it('toggles an automation from its switch and reports its run state', async () => {
    const [, party] = findConfig('switch', '_automation_switch_party')
    const stateTopic = String(party['state_topic'])
    const from = ha.mark
    await ha.publish(String(party['command_topic']), String(party['payload_on']))
    await jsonOn(stateTopic, (body) => body['state'] === 'running', from)
    await ha.publish(String(party['command_topic']), String(party['payload_off']))
    await jsonOn(stateTopic, (body) => body['state'] === 'idle', from)
    // The run-state sensor's attributes: the last run's trace summary.
    const [, state] = findConfig('sensor', '_automation_state_party')
    expect(state['json_attributes_topic']).toBe(`${stateTopic}/trace`)
    const summary = await jsonOn(String(state['json_attributes_topic']), (body) => body['result'] === 'stopped', from)
    expect(JSON.parse(summary.payload)).toMatchObject({ started: expect.any(String), preempted_by: null, error: null })
    for (const field of ['result', 'started', 'preempted_by', 'error'])
      expect(state['json_attributes_template']).toContain(`value_json.${field}`)
  })

  it('applies a light command and publishes the state in the JSON schema', async () => {
    const [, light] = findConfig('light', '_light_bath_bulb')
    const bulb = genlock.bulb('bath_bulb')
    const from = ha.mark
    const applied = bulb.nextCommand((entry) => entry.origin?.holder === 'manual')
    await ha.publish(String(light['command_topic']), JSON.stringify({ state: 'ON', brightness: 30, color_temp: 3000 }))
    expect((await applied).state).toMatchObject({ on: true, brightness: 30, colorTemp: 3000 })
    await jsonOn(
      String(light['state_topic']),
      (body) =>
        body['state'] === 'ON' &&
        body['brightness'] === 30 &&
        body['color_mode'] === 'color_temp' &&
        body['color_temp'] === 3000,
      from,
    )
    await ha.publish(String(light['command_topic']), JSON.stringify({ state: 'ON', color: { r: 0, g: 0, b: 255 } }))
    await jsonOn(String(light['state_topic']), (body) => body['color_mode'] === 'rgb', from)
    await ha.publish(String(light['command_topic']), JSON.stringify({ state: 'OFF' }))
    await jsonOn(String(light['state_topic']), (body) => body['state'] === 'OFF', from)
  })

  it('drops a malformed light command with a warning naming the topic, and keeps running', async () => {
    const [, light] = findConfig('light', '_light_bath_bulb')
    await ha.publish(String(light['command_topic']), JSON.stringify({ state: 'ON', brightness: 400 }))
    await genlock.logs.waitFor('light command dropped: brightness must be a number in 0–100')
    const line = genlock.logs.lines.find((entry) => String(entry['msg']).startsWith('light command dropped'))
    expect(line?.['topic']).toBe(light['command_topic'])
  })

  it("republishes every config and light state on Home Assistant's birth message", async () => {
    const from = ha.mark
    await ha.publish('homeassistant/status', 'online')
    const again = await discovered(12, from)
    expect([...again.keys()].sort()).toEqual([...configs.keys()].sort())
    const [, light] = findConfig('light', '_light_bath_bulb')
    await ha.waitFor((m) => m.topic === light['state_topic'], from)
    await ha.waitFor((m) => m.topic === `${genlock.baseTopic}/automation/alarm`, from)
  })

  it('removes the entities of a removed automation and a removed device (hot reload)', async () => {
    const [partySwitch] = findConfig('switch', '_automation_switch_party')
    const [partyState] = findConfig('sensor', '_automation_state_party')
    const [hallLight, hallConfig] = findConfig('light', '_light_hall_light')
    const [hallHolder] = findConfig('sensor', '_holder_hall_light')
    const [hallRelease] = findConfig('button', '_release_hall_light')
    const from = ha.mark
    rmSync(join(genlock.dir, 'automations', 'party.yaml'))
    rmSync(join(genlock.dir, 'devices', 'hall_light.yaml'))
    await genlock.daemon.reload()
    for (const topic of [partySwitch, partyState, hallLight, hallHolder, hallRelease]) {
      const removal = await ha.waitFor((m) => m.topic === topic && m.payload === '', from)
      expect(removal.topic).toBe(topic)
    }
    await ha.waitFor((m) => m.topic === hallConfig['state_topic'] && m.payload === '', from)
    await ha.waitFor((m) => m.topic === hallConfig['json_attributes_topic'] && m.payload === '', from)
    // The removed party's last trace summary (it ran above) goes too.
    await ha.waitFor((m) => m.topic === `${genlock.baseTopic}/automation/party/trace` && m.payload === '', from)
    // Alarm and bath bulb stay: they are not removed, and adding the party back announces it again.
    const removedTopics = ha.seen.slice(from).filter((m) => m.payload === '' && m.topic.endsWith('/config'))
    expect(removedTopics.map((m) => m.topic).sort()).toEqual(
      [hallHolder, hallLight, hallRelease, partyState, partySwitch].sort(),
    )
    const back = ha.mark
    writeFileSync(join(genlock.dir, 'automations', 'party.yaml'), PARTY)
    await genlock.daemon.reload()
    const returned = await ha.waitFor((m) => m.topic === partySwitch && m.payload !== '', back)
    expect(JSON.parse(returned.payload)['command_topic']).toBe(`${genlock.baseTopic}/automation/party/set`)
  })
})

/**
 * `<base>/health` end to end: a real mosquitto, the daemon in this process with a sim bulb. A broken automation
 * file and an unplugged bulb show up on the retained report, in Home Assistant's diagnostic sensors and in
 * `genlock health`, and go away when fixed.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../src/config/logger.js'
import { Daemon } from '../../src/daemon/index.js'
import { Health, type DaemonHealth } from '../../src/daemon/extensions/health/health.js'
import { checkHealth, describeDaemonHealth } from '../../src/health.js'
import { PARTY, simBulb, writeSetup } from '../cli/setup-files.js'
import { discoveryProblems } from '../homeassistant/support.js'
import { LogCapture, nextReload, daemonTestBed, startTestDaemon, type TestDaemon } from './harness.js'

const BROKEN = `name: broken
devices: [bath_bulb]
trigger:
  - mqtt: home/broken
steps:
  - set: { brightness: lots }
`

describe('the health report', () => {
  const bed = daemonTestBed()

  const healthOn = (t: TestDaemon, test: (health: DaemonHealth) => boolean, from = 0) =>
    bed.mqtt
      .waitFor((m) => m.topic === `${t.baseTopic}/health` && test(JSON.parse(m.payload) as DaemonHealth), from)
      .then((m) => JSON.parse(m.payload) as DaemonHealth)

  it('publishes again every interval while nothing changes', async () => {
    const base = `health_${process.pid}`
    const { configFile } = writeSetup({
      config: `mqtt: { url: "${bed.mosquitto.url}", base_topic: ${base}, client_id: ${base} }\n`,
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
    })
    const logs = new LogCapture()
    const logger = createLogger({ level: 'info', pretty: false, destination: logs.stream })
    // The built-in one publishes every minute; this one, beside it, every 50 ms.
    const daemon = await Daemon.start(configFile, { logger, watch: false, extensions: [new Health(50)] })
    try {
      const from = bed.mqtt.mark
      const reports = () => bed.mqtt.seen.slice(from).filter((m) => m.topic === `${base}/health`).length
      while (reports() < 4) await bed.mqtt.waitFor((m) => m.topic === `${base}/health`, bed.mqtt.mark)
      expect(reports()).toBeGreaterThanOrEqual(4)
    } finally {
      await daemon.stop()
    }
  })

  it('reports config problems and unreachable bulbs, on change, and clears them when fixed', async () => {
    const t = (bed.running = await startTestDaemon(bed.mosquitto.url, {
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
      automations: { 'party.yaml': PARTY, 'broken.yaml': BROKEN },
    }))
    const first = await healthOn(t, () => true)
    expect(first.config_problems).toHaveLength(1)
    expect(first.config_problems[0]).toMatchObject({ file: expect.stringMatching(/broken\.yaml$/), line: 6 })
    expect(first.config_problems[0]!.text).toMatch(/broken\.yaml:6:\d+ steps\.0\.set\.brightness/)
    expect(first.devices['bath_bulb']).toMatchObject({ adapter: 'sim', reachable: true, command_failures: 0 })
    expect(first.unreachable).toEqual([])
    expect(first.uptime_s).toBeGreaterThanOrEqual(0)
    expect(first.memory.rss_bytes).toBeGreaterThan(0)
    expect(first.mqtt).toMatchObject({ reconnects: 0 })

    // Home Assistant's diagnostic sensors read it.
    const sensors = ['config_problems', 'unreachable_bulbs'].map((kind) =>
      bed.mqtt.waitFor(
        (m) => m.topic.startsWith('homeassistant/sensor/') && m.topic.includes(`${t.baseTopic}_${kind}_`),
      ),
    )
    for (const sensor of await Promise.all(sensors)) {
      const config = JSON.parse(sensor.payload) as Record<string, unknown>
      expect(discoveryProblems('sensor', config)).toEqual([])
      expect(config).toMatchObject({ state_topic: `${t.baseTopic}/health`, entity_category: 'diagnostic' })
    }

    // An unplugged bulb: reported at once, and its failed command counted.
    let from = bed.mqtt.mark
    const bulb = t.bulb('bath_bulb')
    bulb.setReachable(false)
    await healthOn(t, (health) => health.unreachable.includes('bath_bulb'), from)
    await bed.mqtt.publish('home/party', 'ON')
    const failed = await healthOn(t, (health) => health.devices['bath_bulb']!.command_failures === 1, from)
    expect(failed.devices['bath_bulb']!.last_error).toMatch(/bath_bulb/)

    // `genlock health` reads the same report.
    const report = await checkHealth(t.configFile)
    expect(report.healthy).toBe(true)
    expect(report.daemon?.unreachable).toEqual(['bath_bulb'])
    const lines = describeDaemonHealth(report.daemon!).join('\n')
    expect(lines).toMatch(/0 of 1 bulbs reachable; not answering: bath_bulb/)
    expect(lines).toMatch(/bath_bulb: 1 failed commands/)
    expect(lines).toMatch(/1 config problems:\n {2}.*broken\.yaml:6/)

    // Fixed: the bulb answers again, the file is mended.
    from = bed.mqtt.mark
    bulb.setReachable(true)
    await healthOn(t, (health) => health.unreachable.length === 0, from)
    const reloaded = nextReload(t.daemon)
    writeFileSync(join(t.dir, 'automations', 'broken.yaml'), BROKEN.replace('lots', '40'))
    expect((await reloaded).problems).toEqual([])
    await healthOn(t, (health) => health.config_problems.length === 0, from)
  })
})

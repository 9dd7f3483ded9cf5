/**
 * Hot reload keeps triggers alive on both brokers genlock meets: the embedded one (aedes, what `npm start` and
 * config.example.yaml run) and mosquitto. An edited automation or device file reloads, and the next trigger runs.
 */
import { appendFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { SimCommandLogEntry } from '../../src/devices/index.js'
import { Observer } from '../mqtt/observer.js'
import { freePort, startMosquitto, type ServiceProcess } from '../support/services.js'
import { simBulb } from '../cli/setup-files.js'
import { nextReload, startTestDaemon, type TestDaemon } from './harness.js'

/** A finite automation on the bath bulb: each trigger sets the colour carried in its payload. */
const PAINT = `name: paint
priority: 0
devices: [bath_bulb]
mode: restart
trigger:
  - mqtt: home/paint
steps:
  - set: { color: "{{ trigger.payload }}", brightness: 70 }
`

interface BrokerUnderTest {
  /** The `mqtt:` keys of config.yaml (beside base_topic and client_id). */
  config(): Promise<string>
  /** Where a client reaches it once the daemon runs. */
  url(): string
  dispose(): Promise<void>
}

function embedded(): BrokerUnderTest {
  let port = 0
  return {
    async config() {
      port = await freePort()
      return `embedded: true, port: ${port}`
    },
    url: () => `mqtt://127.0.0.1:${port}`,
    dispose: async () => {},
  }
}

function mosquitto(): BrokerUnderTest {
  let service: (ServiceProcess & { url: string }) | undefined
  return {
    async config() {
      service ??= await startMosquitto()
      return `url: "${service.url}"`
    },
    url: () => service!.url,
    dispose: async () => service?.dispose(),
  }
}

const painted = (color: string) => (entry: SimCommandLogEntry) =>
  entry.origin?.holder === 'paint' && entry.command.color === color

describe.each([
  ['the embedded broker (aedes)', embedded],
  ['mosquitto', mosquitto],
])('hot reload on %s', (_name, make) => {
  const broker = make()
  let running: TestDaemon | undefined
  let client: Observer | undefined

  async function start(): Promise<TestDaemon & { client: Observer }> {
    running = await startTestDaemon(
      { mqtt: await broker.config() },
      { devices: { 'bath_bulb.yaml': simBulb('bath_bulb') }, automations: { 'paint.yaml': PAINT } },
    )
    client = await Observer.connect(broker.url(), [])
    return { ...running, client }
  }

  /** Publishes `home/paint <color>` and resolves once the bulb got it from the automation. */
  async function paint(t: TestDaemon, color: string): Promise<void> {
    const command = t.bulb('bath_bulb').nextCommand(painted(color))
    await client!.publish('home/paint', color)
    await command
  }

  beforeAll(async () => {
    await broker.config()
  })
  afterEach(async () => {
    await client?.close()
    await running?.daemon.stop()
    running = undefined
  })
  afterAll(async () => {
    await broker.dispose()
  })

  it('keeps the trigger through edits of the automation file: a harmless line, then a real change', async () => {
    const t = await start()
    const file = join(t.dir, 'automations', 'paint.yaml')
    await paint(t, 'red')
    for (const [round, color] of ['blue', 'green', 'yellow'].entries()) {
      const reloaded = nextReload(t.daemon)
      appendFileSync(file, `# edit ${round}\n`)
      expect((await reloaded).problems).toEqual([])
      await paint(t, color)
    }
    // A real change replaces the automation (the old one unsubscribes, the new one subscribes the same topic).
    const reloaded = nextReload(t.daemon)
    writeFileSync(file, PAINT.replace('brightness: 70', 'brightness: 40'))
    await reloaded
    const command = t.bulb('bath_bulb').nextCommand(painted('purple'))
    await t.client.publish('home/paint', 'purple')
    expect((await command).state.brightness).toBe(40)
  })

  it('keeps the trigger through edits of the device file: a harmless line, then a real change', async () => {
    const t = await start()
    const file = join(t.dir, 'devices', 'bath_bulb.yaml')
    await paint(t, 'red')
    let reloaded = nextReload(t.daemon)
    appendFileSync(file, '# a comment\n')
    await reloaded
    await paint(t, 'blue')
    // A real change rebuilds the bulb, and with it every automation that drives it.
    const before = t.bulb('bath_bulb')
    reloaded = nextReload(t.daemon)
    writeFileSync(file, `${simBulb('bath_bulb')}name: Bath\n`)
    await reloaded
    expect(t.bulb('bath_bulb')).not.toBe(before)
    await paint(t, 'green')
  })
})

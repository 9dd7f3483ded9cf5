import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GenlockProcess } from '../cli/support/genlock-process.js'
import { CompiledBuild } from '../support/compiled.js'

/**
 * tplink-smarthome-api and tplink-smarthome-simulator are CommonJS. vitest's and tsx's module interop differ from
 * Node's ESM loader, which is what users run (`node dist/cli/index.js`), so these tests run the compiled code
 * under plain node: the Kasa adapter, the simulator behind `genlock sim kasa`, and `genlock discover`.
 */
describe('Kasa in the compiled build, under plain node', () => {
  let build: CompiledBuild

  beforeAll(async () => {
    build = await CompiledBuild.build()
  }, 120_000)

  afterAll(() => build?.dispose())

  it('a KasaBulb built from a device file drives the Kasa simulator', async () => {
    const { stdout } = await build.run(
      'kasa-bulb',
      `
      import { createBulb } from './devices/index.js'
      import { KasaSimulator } from './simulators/kasa.js'
      const sim = await KasaSimulator.start({ port: 0, count: 1 })
      const [lamp] = sim.bulbs
      const bulb = createBulb({
        id: 'desk', adapter: 'kasa', host: lamp.host, port: lamp.port, transport: 'tcp',
        capabilities: { dimmable: true, color: true, colorTemp: { min: 2500, max: 9000 } },
        timeoutMs: 2000, retries: 0, backoffMs: 0,
      })
      await bulb.start()
      const set = await bulb.setState({ on: true, brightness: 30, color: 'blue' })
      const read = await bulb.getStatus()
      await bulb.stop()
      await sim.stop()
      console.log(JSON.stringify({ set, read }))
      `,
    )
    const { set, read } = JSON.parse(stdout) as Record<string, Record<string, unknown>>
    expect(set).toMatchObject({ on: true, brightness: 30, reachable: true })
    expect(read).toMatchObject({ on: true, brightness: 30, color: { r: 0, g: 0, b: 255 }, reachable: true })
  })

  it('genlock sim kasa serves bulbs that genlock discover finds', async () => {
    const sim = new GenlockProcess(build.spawnCli('sim', 'kasa', '--port', '0', '--count', '2'), ['sim', 'kasa'])
    try {
      const [, port] = await sim.waitFor(/discovery on udp 127\.0\.0\.1:(\d+)/)
      await sim.waitFor(/ready; Ctrl-C stops/)
      const found = await build.runCli(
        'discover',
        '--broadcast',
        '127.0.0.1',
        '--kasa-port',
        port!,
        '--no-hue',
        '--timeout',
        '1500',
      )
      expect(found.stderr).toBe('found 2 Kasa devices and 0 Hue bridges\n')
      expect(found.stdout).toContain('id: kasa_bulb_1\n')
      expect(found.stdout).toContain('id: kasa_bulb_2\n')
    } finally {
      await sim.stop()
    }
  })
})

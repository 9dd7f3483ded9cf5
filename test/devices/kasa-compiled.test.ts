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

  it('a KLAP bulb is found behind a closed legacy port and driven, from the printed device file', async () => {
    const sim = new GenlockProcess(build.spawnCli('sim', 'kasa', '--port', '0', '--count', '1', '--protocol', 'klap'), [
      'sim',
      'kasa',
      '--protocol',
      'klap',
    ])
    try {
      const [, httpPort] = await sim.waitFor(/Kasa bulb 1 \(LB130\) on http 127\.0\.0\.1:(\d+)/)
      await sim.waitFor(/ready; Ctrl-C stops/)
      expect(sim.stdout).toContain(
        `protocol: klap\nhttpPort: ${httpPort}\nusername: \${KASA_USERNAME}\npassword: \${KASA_PASSWORD}\n`,
      )
      const { stdout } = await build.run(
        'kasa-klap',
        `
        import { createBulb } from './devices/index.js'
        const bulb = createBulb({
          id: 'hall', adapter: 'kasa', host: '127.0.0.1', port: 9, transport: 'tcp', protocol: 'auto',
          httpPort: ${httpPort}, username: process.env.KASA_USERNAME, password: process.env.KASA_PASSWORD, poll: 0,
          capabilities: { dimmable: true, color: true }, timeoutMs: 2000, retries: 0, backoffMs: 0,
        })
        await bulb.start()
        const set = await bulb.setState({ on: true, brightness: 45, color: 'red' })
        await bulb.stop()
        console.log(JSON.stringify(set))
        `,
        { KASA_USERNAME: '', KASA_PASSWORD: '' },
      )
      expect(JSON.parse(stdout)).toMatchObject({ on: true, brightness: 45, reachable: true })
    } finally {
      await sim.stop()
    }
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

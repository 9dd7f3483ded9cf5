import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { createBulb } from '../../src/devices/index.js'
import { deviceSchema } from '../../src/devices/device-schema.js'
import { genlock, GenlockProcess } from './support/genlock-process.js'

/** Every `# devices/...` YAML document in `text` (each ends at a blank line), parsed. */
function deviceFiles(text: string): Record<string, unknown>[] {
  return text
    .split(/\n\n+/)
    .filter((chunk) => chunk.startsWith('# devices/'))
    .map((chunk) => parse(chunk) as Record<string, unknown>)
}

describe('genlock sim kasa and genlock discover, on loopback only', () => {
  let kasa: GenlockProcess
  let hue: GenlockProcess
  let discoveryPort: string
  let bridgePort: string

  beforeAll(async () => {
    kasa = GenlockProcess.start('sim', 'kasa', '--port', '0', '--count', '3')
    hue = GenlockProcess.start('sim', 'hue', '--port', '0', '--count', '1')
    ;[, discoveryPort] = (await kasa.waitFor(/discovery on udp 127\.0\.0\.1:(\d+)/)) as unknown as [string, string]
    ;[, bridgePort] = (await hue.waitFor(/on https:\/\/127\.0\.0\.1:(\d+) /)) as unknown as [string, string]
    await kasa.waitFor(/ready; Ctrl-C stops/)
    await hue.waitFor(/ready; Ctrl-C stops/)
  })

  afterAll(async () => {
    await kasa?.stop()
    await hue?.stop()
  })

  it('sim kasa lists its bulbs and their device files', () => {
    expect(kasa.stdout).toMatch(/Kasa bulb 1 \(LB130\) on 127\.0\.0\.1:\d+/)
    expect(kasa.stdout).toMatch(/Kasa bulb 2 \(LB120\) on 127\.0\.0\.1:\d+/)
    expect(deviceFiles(kasa.stdout).map((file) => file.id)).toEqual(['kasa_bulb_1', 'kasa_bulb_2', 'kasa_bulb_3'])
  })

  it('finds every simulated Kasa bulb and the Hue bridge, and prints device files that validate and work', async () => {
    const result = await genlock(
      'discover',
      '--broadcast',
      '127.0.0.1',
      '--kasa-port',
      discoveryPort,
      '--ssdp',
      `127.0.0.1:${bridgePort}`,
      '--mdns',
      `127.0.0.1:${bridgePort}`,
      '--timeout',
      '1500',
    )
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('found 3 Kasa devices and 1 Hue bridge\n')
    const files = deviceFiles(result.stdout)
    expect(files.map((file) => file.id)).toEqual(['kasa_bulb_1', 'kasa_bulb_2', 'kasa_bulb_3'])
    // The same bulbs, on the same ports, as the simulator says it runs.
    for (const file of files) {
      expect(kasa.stdout).toContain(`${String(file.name)} (`)
      expect(kasa.stdout).toMatch(
        new RegExp(`${String(file.name)} \\(LB1[23]0\\) on 127\\.0\\.0\\.1:${String(file.port)}\\n`),
      )
    }
    expect(result.stdout).toContain(`at 127.0.0.1:${bridgePort}`)
    expect(result.stdout).toContain(`pair with: genlock hue pair 127.0.0.1:${bridgePort} --insecure`)

    // The printed file is a valid device file, and the real Kasa adapter drives the simulated bulb with it.
    const config = deviceSchema.parse(files[0])
    const bulb = createBulb(config)
    await bulb.start()
    await bulb.setState({ on: true, brightness: 30, color: 'blue' })
    expect(await bulb.getStatus()).toMatchObject({ on: true, brightness: 30 })
    await bulb.stop()
  })

  it('finds the Hue bridge by mDNS alone, and by SSDP alone', async () => {
    const silent = '127.0.0.1:9'
    for (const [ssdp, mdns] of [
      [silent, `127.0.0.1:${bridgePort}`],
      [`127.0.0.1:${bridgePort}`, silent],
    ]) {
      const result = await genlock('discover', '--no-kasa', '--ssdp', ssdp!, '--mdns', mdns!, '--timeout', '1000')
      expect(result.stderr).toBe('found 0 Kasa devices and 1 Hue bridge\n')
      expect(result.stdout).toContain(`pair with: genlock hue pair 127.0.0.1:${bridgePort} --insecure`)
    }
  })

  it('says so on stderr, and exits 0, when nothing answers', async () => {
    const result = await genlock(
      'discover',
      '--broadcast',
      '127.0.0.1',
      '--kasa-port',
      '9',
      '--no-hue',
      '--timeout',
      '300',
    )
    expect(result).toMatchObject({
      code: 0,
      stdout: '',
      stderr: 'no Kasa bulbs or Hue bridges answered within 300 ms\n',
    })
  })

  it('bad options are one clear line and exit 1', async () => {
    const result = await genlock('discover', '--ssdp', 'everywhere')
    expect(result).toMatchObject({
      code: 1,
      stderr: 'genlock discover: --ssdp must be host:port, e.g. 239.255.255.250:1900\n',
    })
    const sim = await genlock('sim', 'zigbee')
    expect(sim.code).toBe(1)
    expect(sim.stderr).toMatch(
      /^error: command-argument value 'zigbee' is invalid for argument 'kind'\. Allowed choices are kasa, hue, mqtt\.\n$/,
    )
  })
})

import { createServer, type Server } from 'node:http'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DeviceCommandError, TransientDeviceError } from '../../src/devices/errors.js'
import { KasaBulb, type KasaBulbOptions } from '../../src/devices/kasa/kasa-bulb.js'
import { KasaSimulator, type SimulatedKasaBulb } from '../../src/simulators/kasa.js'
import { freePort } from '../support/services.js'

const ACCOUNT = { username: 'owner@example.com', password: 'Kasa-Secret-1' }
const CAPS = { dimmable: true, color: true, colorTemp: { min: 2500, max: 9000 } }

/** A logger that keeps every line (object and message) as text, to check what reaches logs. */
function textLogger() {
  const lines: string[] = []
  const keep = (object: object, message?: string) => lines.push(`${JSON.stringify(object)} ${message ?? ''}`)
  return { lines, logger: { debug: keep, info: keep, warn: keep, error: keep } }
}

describe('KasaBulb over KLAP (newer firmware) against the Kasa simulator', () => {
  let sim: KasaSimulator
  let lamp: SimulatedKasaBulb
  let closedPort: number
  beforeEach(async () => {
    sim = await KasaSimulator.start({ port: 0, models: ['lb130'], protocol: 'klap', credentials: ACCOUNT })
    lamp = sim.bulbs[0]!
    closedPort = await freePort()
  })
  afterEach(async () => {
    await sim.stop()
  })

  function bulb(options: Partial<KasaBulbOptions> = {}) {
    return new KasaBulb({
      id: 'hall_bulb',
      capabilities: CAPS,
      host: '127.0.0.1',
      port: closedPort,
      httpPort: lamp.port,
      queue: { timeoutMs: 1000, retries: 1, backoffMs: 0 },
      ...ACCOUNT,
      ...options,
    })
  }

  it('finds KLAP when the legacy port is closed, says so in the log, and drives the bulb', async () => {
    const { lines, logger } = textLogger()
    const hall = bulb({ logger })
    await hall.start()
    expect(hall.state).toMatchObject({ reachable: true })
    await hall.setState({ on: true, color: 'blue', brightness: 30 })
    expect(await hall.getStatus()).toEqual({ on: true, brightness: 30, color: { r: 0, g: 0, b: 255 }, reachable: true })
    expect(lamp.requests.every((request) => request.via === 'klap')).toBe(true)
    expect(lines).toContainEqual(
      expect.stringContaining(
        `hall_bulb (kasa 127.0.0.1:${closedPort}): legacy port ${closedPort} closed, speaking KLAP on port ${lamp.port}`,
      ),
    )
    await hall.stop()
  })

  it('handshakes again when the bulb forgot its session (it restarted), without failing the command', async () => {
    const hall = bulb({ protocol: 'klap' })
    await hall.start()
    lamp.forgetSessions()
    await expect(hall.setPower(false)).resolves.toMatchObject({ on: false })
    expect(lamp.lightState.on_off).toBe(0)
    await hall.stop()
  })

  it('refuses the wrong account at once, with an error that says what to check and no secret', async () => {
    const { lines, logger } = textLogger()
    const hall = bulb({ protocol: 'klap', username: 'owner@example.com', password: 'wrong-password', logger })
    await hall.start()
    const error = (await hall.setPower(true).catch((e: unknown) => e)) as Error
    expect(error).toBeInstanceOf(DeviceCommandError)
    expect(error.message).toBe(
      `hall_bulb (kasa 127.0.0.1:${lamp.port}) refused the configured TP-Link account: check username and password ` +
        '(the Kasa app e-mail and password, both case-sensitive)',
    )
    // Not retried: one handshake for the probe at start, one for the command.
    expect(lamp.requests).toHaveLength(0)
    for (const text of [...lines, error.message]) {
      expect(text).not.toContain('wrong-password')
      expect(text).not.toContain(ACCOUNT.password)
    }
    await hall.stop()
  })

  it('talks to a bulb never bound to the cloud (empty account) whatever account is configured', async () => {
    const fresh = await KasaSimulator.start({ port: 0, models: ['lb120'], protocol: 'klap' })
    try {
      const hall = bulb({
        protocol: 'klap',
        httpPort: fresh.bulbs[0]!.port,
        capabilities: { dimmable: true, color: false },
      })
      await hall.start()
      await expect(hall.setBrightness(10)).resolves.toMatchObject({ on: true, brightness: 10 })
      await hall.stop()
    } finally {
      await fresh.stop()
    }
  })
})

describe('a Kasa bulb that speaks neither protocol', () => {
  let web: Server
  let webPort: number
  beforeEach(async () => {
    web = createServer((_request, response) => response.writeHead(404).end('Not Found'))
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve))
    webPort = (web.address() as { port: number }).port
  })
  afterEach(async () => {
    await new Promise<void>((resolve) => web.close(() => resolve()))
  })

  it('gets an error that says what was tried', async () => {
    const legacyPort = await freePort()
    const hall = new KasaBulb({
      id: 'hall_bulb',
      capabilities: CAPS,
      host: '127.0.0.1',
      port: legacyPort,
      httpPort: webPort,
      queue: { retries: 0 },
    })
    await hall.start()
    const error = (await hall.setPower(true).catch((e: unknown) => e)) as Error
    expect(error).toBeInstanceOf(DeviceCommandError)
    expect(error.message).toMatch(
      new RegExp(
        `^hall_bulb \\(kasa 127\\.0\\.0\\.1:${legacyPort}\\) speaks neither Kasa protocol: ` +
          `tried the legacy protocol \\(tcp 127\\.0\\.0\\.1:${legacyPort}: .*ECONNREFUSED.*\\) ` +
          `and KLAP \\(http 127\\.0\\.0\\.1:${webPort}: answered KLAP handshake1 with HTTP 404\\)\\. ` +
          'Check host and ports, or set protocol: legacy \\| klap$',
      ),
    )
    await hall.stop()
  })

  it('is unreachable (and retried) when both ports are closed, still naming both', async () => {
    const hall = new KasaBulb({
      id: 'hall_bulb',
      capabilities: CAPS,
      host: '127.0.0.1',
      port: await freePort(),
      httpPort: await freePort(),
      queue: { retries: 1, backoffMs: 0 },
    })
    await hall.start()
    const error = (await hall.setPower(true).catch((e: unknown) => e)) as Error
    expect(error).toBeInstanceOf(TransientDeviceError)
    expect(error.message).toMatch(
      /is unreachable: tried the legacy protocol \(tcp .*\) and KLAP \(http .*ECONNREFUSED.*\)$/,
    )
    expect(hall.state.reachable).toBe(false)
    await hall.stop()
  })
})

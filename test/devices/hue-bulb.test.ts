import { createServer } from 'node:https'
import { connect, createServer as createTcpServer, type AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BulbEvent } from '../../src/devices/bulb.js'
import { DeviceCommandError, DeviceUnreachableError } from '../../src/devices/errors.js'
import { HueBulb, type HueBulbOptions } from '../../src/devices/hue/hue-bulb.js'
import { HUE_COLOR_CAPS, simulatedHueBulb, streamOpen } from './support/hue.js'
import { bridgeCertificates } from '../../src/simulators/hue-certificates.js'
import { HueBridgeSimulator, type HueBridgeRequest } from '../../src/simulators/hue-bridge.js'

const KEY = 'test-app-key-0123456789'
const colorCaps = HUE_COLOR_CAPS

/** A logger that keeps what was said, for the lines a user reads. */
function recordingLogger() {
  const lines: string[] = []
  const keep = (_object: object, message?: string) => lines.push(message ?? '')
  return { lines, logger: { debug: keep, info: keep, warn: keep, error: keep } }
}

/** Resolves with the first event `predicate` accepts. */
function nextEvent(bulb: HueBulb, predicate: (event: BulbEvent) => boolean): Promise<BulbEvent> {
  return new Promise((resolve) => {
    const off = bulb.subscribe((event) => {
      if (!predicate(event)) return
      off()
      resolve(event)
    })
  })
}

describe('HueBulb over CLIP v2 against the simulated bridge', () => {
  let bridge: HueBridgeSimulator
  const bulbs: HueBulb[] = []
  beforeEach(async () => {
    bridge = await HueBridgeSimulator.start({ users: [KEY], count: 2 })
  })
  afterEach(async () => {
    for (const bulb of bulbs.splice(0)) await bulb.stop()
    await bridge.stop()
  })

  function bulb(options: Partial<HueBulbOptions> = {}): HueBulb {
    const hue = simulatedHueBulb(bridge, KEY, options)
    bulbs.push(hue)
    return hue
  }

  it('verifies the bridge, reads the light at start and sends on/dimming/xy/mirek/dynamics with its key', async () => {
    const { lines, logger } = recordingLogger()
    const hue = bulb({ logger })
    await hue.start()
    expect(hue.state).toEqual({ on: false, brightness: 100, colorTemp: 2732, reachable: true })
    expect(lines).toContain(
      `hue bridge ${bridge.bridgeId} at 127.0.0.1:${bridge.port}: CLIP v2 over verified HTTPS, with the event stream`,
    )
    await hue.setState({ on: true, brightness: 50, color: 'red', transition: 400 })
    await hue.setState({ colorTemp: 2700 })
    await hue.setState({ color: '#00ff00', on: false })
    // sRGB red and green lie inside gamut C, so they go as they are; a colour or white with `on` unset turns the lamp on.
    expect(bridge.lightCommands(1)).toEqual([
      {
        api: 'v2',
        key: KEY,
        body: {
          on: { on: true },
          dimming: { brightness: 50 },
          color: { xy: { x: 0.64, y: 0.33 } },
          dynamics: { duration: 400 },
        },
      },
      { api: 'v2', key: KEY, body: { on: { on: true }, color_temperature: { mirek: 370 } } },
      { api: 'v2', key: KEY, body: { on: { on: false }, color: { xy: { x: 0.3, y: 0.6 } } } },
    ])
    expect(bridge.requests.every((request) => request.secure)).toBe(true)
    expect(hue.state).toMatchObject({ on: false, brightness: 50, color: { r: 0, g: 255, b: 0 } })
    const status = await hue.getStatus()
    expect(status.on).toBe(false)
    expect(status.color!.g).toBe(255)
  })

  it('gives a white-ambiance lamp mirek inside its own range, never xy', async () => {
    const hall = bulb({
      id: 'hall',
      light: 2,
      capabilities: { dimmable: true, color: false, colorTemp: { min: 2000, max: 6500 } },
    })
    await hall.start()
    await hall.setColor('red')
    await hall.setState({ colorTemp: 2000 })
    // 2000 K is 500 mirek; this lamp reports mirek_maximum 454.
    expect(bridge.lightCommands(2).map(({ body }) => body)).toEqual([
      { on: { on: true }, color_temperature: { mirek: 454 } },
      { on: { on: true }, color_temperature: { mirek: 454 } },
    ])
  })

  it('names the light by its CLIP v2 id too, and lists the lights when the one named is not there', async () => {
    const byId = bulb({ light: bridge.light(2).id })
    await byId.setPower(true)
    expect(bridge.light(2).on).toBe(true)
    const missing = bulb({ light: 7 })
    const error = await missing.setPower(true).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeviceCommandError)
    expect(String(error)).toContain(
      `the bridge has no light 7; it has 1 (${bridge.light(1).id}), 2 (${bridge.light(2).id})`,
    )
  })

  it('warns when the device file promises colour the lamp does not have', async () => {
    const { lines, logger } = recordingLogger()
    await bulb({ id: 'hall', light: 2, logger }).start()
    expect(lines).toContain(
      `hall (hue 127.0.0.1:${bridge.port} light 2): the bridge reports no color for this lamp; fix capabilities in its device file`,
    )
  })

  it('retries a busy bridge and a dropped connection', async () => {
    const hue = bulb()
    await hue.start()
    bridge.fault = 'busy-once'
    await hue.setPower(true)
    bridge.fault = 'reset-once'
    await hue.setPower(false)
    expect(bridge.lightCommands(1).map(({ body }) => body)).toEqual([
      { on: { on: true } },
      { on: { on: true } },
      { on: { on: false } },
      { on: { on: false } },
    ])
    expect(bridge.light(1).on).toBe(false)
  })

  it('hears that the lamp lost power from the event stream, and reports commands to it without retrying', async () => {
    const hue = bulb()
    await hue.start()
    const offline = nextEvent(hue, (event) => event.type === 'availability' && !event.reachable)
    bridge.setConnected(1, false)
    await offline
    expect(hue.state.reachable).toBe(false)
    await expect(hue.setPower(true)).rejects.toThrow(
      new DeviceUnreachableError(
        `bath_bulb (hue 127.0.0.1:${bridge.port} light 1)`,
        'the bridge cannot reach the lamp',
      ),
    )
    expect(bridge.lightCommands(1)).toHaveLength(1)
    const online = nextEvent(hue, (event) => event.type === 'availability' && event.reachable)
    bridge.setConnected(1, true)
    await online
  })

  it('does not poll a bridge that has the event stream', async () => {
    const hue = bulb({ pollMs: 1 })
    await hue.start()
    // The clock for "it would have polled by now": a CLIP v1 bulb polling as often, whose reads the bridge counts.
    const clock = bulb({ id: 'clock', light: 2, insecure: true, ca: undefined, pollMs: 1 })
    await clock.start()
    const v1Read = (request: HueBridgeRequest) => request.method === 'GET' && request.path === `/api/${KEY}/lights`
    for (let polls = 0; polls < 5; polls++) await bridge.nextRequest(v1Read)
    const id = bridge.light(1).id
    const reads = bridge.requests.filter(
      (request) => request.method === 'GET' && request.path === `/clip/v2/resource/light/${id}`,
    )
    expect(reads).toHaveLength(1) // the read at start
  })

  it('connects on a later poll to a bridge that was down at start, then follows its event stream instead', async () => {
    // The bridge behind a door that drops every connection until it is opened.
    let open = false
    const door = createTcpServer((socket) => {
      if (!open) return void socket.destroy()
      const upstream = connect(bridge.port, '127.0.0.1')
      socket.pipe(upstream).pipe(socket)
      socket.on('error', () => upstream.destroy())
      upstream.on('error', () => socket.destroy())
    })
    await new Promise<void>((resolve) => door.listen(0, '127.0.0.1', resolve))
    try {
      const { lines, logger } = recordingLogger()
      const hue = bulb({ port: (door.address() as AddressInfo).port, pollMs: 20, logger })
      await hue.start()
      expect(hue.state.reachable).toBe(false)
      expect(lines).toContain(`${hue.description}: not reachable at start`)
      const reachable = nextEvent(hue, (event) => event.type === 'availability' && event.reachable)
      open = true
      await reachable
      await streamOpen(bridge)
      const seen = nextEvent(hue, (event) => event.type === 'state' && event.outside === true)
      bridge.changeFromApp(1, { on: true, brightness: 45 })
      expect(await seen).toMatchObject({ state: { on: true, brightness: 45 } })
    } finally {
      door.close()
    }
  })

  it('names the device, and never the key, when the bridge refuses the key', async () => {
    const hue = bulb({ username: 'wrong-key-secret' })
    const error = await hue.setPower(true).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeviceCommandError)
    expect(String(error)).toContain('bath_bulb (hue 127.0.0.1:')
    expect(String(error)).toContain('refused the application key')
    expect(String(error)).not.toContain('wrong-key-secret')
  })

  it('refuses a bridge whose certificate the Hue root CA did not sign, and sends it nothing', async () => {
    const hue = bulb({ ca: undefined, queue: { retries: 0 } })
    const error = await hue.setPower(true).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeviceCommandError)
    expect(String(error)).toMatch(
      /does not present a Hue bridge certificate \(.*unable to verify the first certificate/,
    )
    expect(bridge.requests).toEqual([])
  })
})

describe('HueBulb: the certificate must name the bridge that answers', () => {
  it('refuses a certificate for another bridge id, even from a trusted CA', async () => {
    const { ca, bridge } = bridgeCertificates('001788fffe000001')
    const server = createServer(bridge, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ bridgeid: '001788FFFE000002', swversion: '1967054020' }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    const hue = new HueBulb({
      id: 'b',
      capabilities: colorCaps,
      host: '127.0.0.1',
      port,
      username: KEY,
      light: 1,
      ca,
      queue: { retries: 0 },
    })
    try {
      const error = await hue.setPower(true).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DeviceCommandError)
      expect(String(error)).toContain(
        `the certificate names '001788fffe000001', but the bridge says it is 001788fffe000002`,
      )
    } finally {
      await hue.stop()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

describe('HueBulb over CLIP v1', () => {
  it('chooses CLIP v1 for bridge software without v2, says so, and still verifies the certificate', async () => {
    const bridge = await HueBridgeSimulator.start({ users: [KEY], firmware: 'v1' })
    const { lines, logger } = recordingLogger()
    const hue = simulatedHueBulb(bridge, KEY, { id: 'old', logger })
    try {
      await hue.start()
      expect(hue.state).toMatchObject({ on: false, colorTemp: 2732, reachable: true })
      await hue.setState({ on: true, brightness: 50 })
      // A busy bridge and a dropped connection are retried on v1 too.
      bridge.fault = 'busy-once'
      await hue.setPower(false)
      bridge.fault = 'reset-once'
      await hue.setPower(true)
      expect(bridge.lightCommands(1)).toEqual([
        { api: 'v1', key: KEY, body: { on: true, bri: 127 } },
        ...Array(2).fill({ api: 'v1', key: KEY, body: { on: false } }),
        ...Array(2).fill({ api: 'v1', key: KEY, body: { on: true } }),
      ])
      expect(bridge.requests.every((request) => request.secure)).toBe(true)
      expect(lines).toContain(
        `hue bridge ${bridge.bridgeId} at 127.0.0.1:${bridge.port}: CLIP v1 through node-hue-api (bridge software 1941132080 is older than 1948086000, the first with CLIP v2)`,
      )
    } finally {
      await hue.stop()
      await bridge.stop()
    }
  })

  it('reads the light every pollMs, so a change in the Hue app is seen; its own commands read back are not changes', async () => {
    const bridge = await HueBridgeSimulator.start({ users: [KEY], firmware: 'v1' })
    const hue = simulatedHueBulb(bridge, KEY, { id: 'old', pollMs: 20 })
    const events: BulbEvent[] = []
    hue.subscribe((event) => events.push(event))
    const isRead = (request: HueBridgeRequest) => request.method === 'GET' && request.path === `/api/${KEY}/lights`
    try {
      await hue.start()
      await hue.setState({ on: true, brightness: 60, colorTemp: 2700 })
      // One read at a time: once the second read after the command comes in, the first has been handled.
      await bridge.nextRequest(isRead)
      await bridge.nextRequest(isRead)
      expect(events.filter((event) => event.type === 'state' && event.outside)).toEqual([])
      expect(hue.state).toEqual({ on: true, brightness: 60, colorTemp: 2700, reachable: true })
      const seen = nextEvent(hue, (event) => event.type === 'state' && event.outside === true)
      bridge.changeFromApp(1, { brightness: 30 })
      // As the bridge has it: 2700 K went as 370 mirek, which is 2703 K.
      expect(await seen).toEqual({
        type: 'state',
        state: { on: true, brightness: 30, colorTemp: 2703, reachable: true },
        outside: true,
      })
    } finally {
      await hue.stop()
      await bridge.stop()
    }
  })

  it('speaks CLIP v1 over plain HTTP with insecure: true, and reports an unreachable lamp at once', async () => {
    const bridge = await HueBridgeSimulator.start({ users: [KEY] })
    const hue = simulatedHueBulb(bridge, KEY, { id: 'plain', ca: undefined, insecure: true })
    try {
      await hue.start()
      await hue.setState({ color: 'red' })
      expect(bridge.lightCommands(1)).toEqual([{ api: 'v1', key: KEY, body: { on: true, xy: [0.64, 0.33] } }])
      expect(bridge.requests.some((request) => request.secure)).toBe(false)
      bridge.setConnected(1, false)
      await expect(hue.setPower(false)).rejects.toThrow(DeviceUnreachableError)
      expect(bridge.lightCommands(1)).toHaveLength(2)
    } finally {
      await hue.stop()
      await bridge.stop()
    }
  })
})

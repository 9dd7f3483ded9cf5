import type { IncomingMessage } from 'node:http'
import { PassThrough } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { BulbCommand, BulbState } from '../../src/devices/bulb.js'
import { HUE_GAMUTS } from '../../src/devices/color.js'
import { findV2Light, fromV2Light, mergeV2Light, toV2LightBody, type V2Light } from '../../src/devices/hue/clip-v2.js'
import { CommandGate, mergeCommands } from '../../src/devices/hue/command-gate.js'
import { chooseApi } from '../../src/devices/hue/hue-bridge-client.js'
import { isHueEcho } from '../../src/devices/hue/hue-echo.js'
import { HueEventStream } from '../../src/devices/hue/event-stream.js'
import { RollingRateLimiter } from '../../src/devices/hue/rate-limiter.js'
import { readDeviceFile } from '../../src/devices/device-files.js'
import { problemsOf } from '../support/config-problems.js'

const lamp = { gamut: HUE_GAMUTS.C, mirek: { min: 153, max: 454 } }
const on = (extra: Partial<BulbState>): BulbState => ({ on: true, brightness: 50, reachable: true, ...extra })

describe('isHueEcho: what a bridge makes of our command is still our command', () => {
  it('takes kelvin back through whole mirek in the lamp range', () => {
    expect(isHueEcho(on({ colorTemp: 2700 }), on({ colorTemp: 2703 }), lamp)).toBe(true)
    // 2000 K is outside this lamp's 454 mirek: the bridge shows 2203 K.
    expect(isHueEcho(on({ colorTemp: 2000 }), on({ colorTemp: 2203 }), lamp)).toBe(true)
    expect(isHueEcho(on({ colorTemp: 2700 }), on({ colorTemp: 3000 }), lamp)).toBe(false)
  })

  it('takes a colour through the gamut and 8-bit rounding, but not a different colour', () => {
    // sRGB green is outside gamut A; the lamp shows the nearest green on its edge.
    const gamutA = { ...lamp, gamut: HUE_GAMUTS.A }
    expect(isHueEcho(on({ color: { r: 0, g: 255, b: 0 } }), on({ color: { r: 0, g: 255, b: 3 } }), lamp)).toBe(true)
    expect(isHueEcho(on({ color: { r: 255, g: 0, b: 0 } }), on({ color: { r: 255, g: 0, b: 12 } }), gamutA)).toBe(true)
    expect(isHueEcho(on({ color: { r: 255, g: 0, b: 0 } }), on({ color: { r: 255, g: 128, b: 0 } }), lamp)).toBe(false)
  })

  it('allows one percent of brightness, and nothing on on/off or colour mode', () => {
    expect(isHueEcho(on({ brightness: 50 }), on({ brightness: 51 }), lamp)).toBe(true)
    expect(isHueEcho(on({ brightness: 50 }), on({ brightness: 53 }), lamp)).toBe(false)
    expect(isHueEcho(on({}), { ...on({}), on: false }, lamp)).toBe(false)
    // Off is off, whatever look the lamp keeps for when it comes back on.
    const off = (extra: Partial<BulbState>) => ({ ...on(extra), on: false })
    expect(isHueEcho(off({ brightness: 10 }), off({ brightness: 80, colorTemp: 2700 }), lamp)).toBe(true)
    expect(isHueEcho(on({ colorTemp: 2700 }), on({ color: { r: 255, g: 180, b: 100 } }), lamp)).toBe(false)
  })
})

describe('CLIP v2 light bodies and reports', () => {
  it('sends whole-percent brightness, gamut-clipped xy, mirek in the lamp range and the transition', () => {
    expect(toV2LightBody({ on: true, brightness: 40, colorTemp: 2000, transition: 300 }, lamp)).toEqual({
      on: { on: true },
      dimming: { brightness: 40 },
      color_temperature: { mirek: 454 },
      dynamics: { duration: 300 },
    })
    const gamutA = { ...lamp, gamut: HUE_GAMUTS.A }
    const { color } = toV2LightBody({ color: { r: 0, g: 0, b: 255 } }, gamutA)
    expect(color!.xy.y).toBeGreaterThanOrEqual(0.08) // gamut A's blue corner is at y 0.08; sRGB blue is at 0.06
  })

  it('reads colour temperature only when valid, and never reports less than 1 %', () => {
    const light: V2Light = {
      id: 'a',
      type: 'light',
      on: { on: true },
      dimming: { brightness: 0.39 },
      color_temperature: { mirek: null, mirek_valid: false },
      color: { xy: { x: 0.64, y: 0.33 } },
    }
    expect(fromV2Light(light, true)).toEqual({
      on: true,
      brightness: 1,
      color: { r: 255, g: 0, b: 0 },
      reachable: true,
    })
    const white = mergeV2Light(light, { color_temperature: { mirek: 250, mirek_valid: true } })
    expect(fromV2Light(white, false)).toEqual({ on: true, brightness: 1, colorTemp: 4000, reachable: false })
  })

  it('finds a light by v1 number through id_v1, or by v2 id', () => {
    const lights: V2Light[] = [
      { id: 'uuid-1', id_v1: '/lights/1', type: 'light' },
      { id: 'uuid-3', id_v1: '/lights/3', type: 'light' },
    ]
    expect(findV2Light(lights, 3)?.id).toBe('uuid-3')
    expect(findV2Light(lights, '1')?.id).toBe('uuid-1')
    expect(findV2Light(lights, 'uuid-3')?.id).toBe('uuid-3')
    expect(findV2Light(lights, 2)).toBeUndefined()
  })

  it('chooses CLIP v2 from bridge software 1948086000 on', () => {
    expect(chooseApi({ bridgeid: 'x', swversion: '1948086000' })).toEqual({ version: 'v2' })
    expect(chooseApi({ bridgeid: 'x', swversion: '1941132080' })).toMatchObject({ version: 'v1' })
    expect(chooseApi({ bridgeid: 'x' })).toMatchObject({ version: 'v1' })
  })
})

describe('the bridge rate limit and merging a flood', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('allows 10 sends in any second', async () => {
    const limiter = new RollingRateLimiter(10, 1000)
    for (let i = 0; i < 10; i++) await limiter.acquire()
    expect(limiter.remaining()).toBe(0)
    expect(limiter.delay()).toBe(1000)
    let eleventh = false
    void limiter.acquire().then(() => (eleventh = true))
    await vi.advanceTimersByTimeAsync(999)
    expect(eleventh).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(eleventh).toBe(true)
  })

  it('merges later fields over earlier ones, a colour over a white and the other way round', () => {
    expect(mergeCommands({ color: 'red', brightness: 10 }, { brightness: 20 })).toEqual({
      color: 'red',
      brightness: 20,
    })
    expect(mergeCommands({ color: 'red' }, { colorTemp: 2700 })).toEqual({ colorTemp: 2700 })
    expect(mergeCommands({ colorTemp: 2700 }, { color: 'blue' })).toEqual({ color: 'blue' })
    expect(mergeCommands({ brightness: 0 }, { on: true })).toEqual({ on: true })
  })

  it('sends in order while the budget lasts, then merges what waits and sends it when the budget is back', async () => {
    const limiter = new RollingRateLimiter(3, 1000)
    const sent: BulbCommand[] = []
    const gate = new CommandGate(limiter, async (command) => {
      await limiter.acquire()
      sent.push(command)
      return { on: true, brightness: command.brightness ?? 0, reachable: true }
    })
    const first = await Promise.all([gate.push({ brightness: 1 }), gate.push({ brightness: 2 })])
    expect(first.map((state) => state.brightness)).toEqual([1, 2])
    await gate.push({ brightness: 3 })
    // The budget of 3 a second is spent: these wait, merged, and go as one when the second is over.
    const flood = [4, 5, 6, 7].map((brightness) => gate.push({ brightness, transition: brightness }))
    await vi.advanceTimersByTimeAsync(999)
    expect(sent.map((command) => command.brightness)).toEqual([1, 2, 3])
    await vi.advanceTimersByTimeAsync(1)
    expect((await Promise.all(flood)).map((state) => state.brightness)).toEqual([7, 7, 7, 7])
    expect(sent.at(-1)).toEqual({ brightness: 7, transition: 7 })
    expect(sent).toHaveLength(4)
  })

  it('rejects what waits when the light stops', async () => {
    const limiter = new RollingRateLimiter(1, 1000)
    const gate = new CommandGate(limiter, async (command) => {
      await limiter.acquire()
      return { on: true, brightness: command.brightness ?? 0, reachable: true }
    })
    await gate.push({ brightness: 1 })
    const waiting = gate.push({ brightness: 2 })
    gate.close(new Error('was stopped'))
    await expect(waiting).rejects.toThrow('was stopped')
  })
})

describe('Hue device files', () => {
  it('name the light by number or v2 id, and trust another CA only through an absolute ca path', () => {
    const file = (extra: string) => `id: bath\nadapter: hue\nhost: 10.0.0.2\nusername: key\n${extra}`
    const id = '3f2a6c1e-8b7d-4e5f-9a0b-1c2d3e4f5a6b'
    expect(readDeviceFile('bath.yaml', file(`light: ${id}\nca: /etc/genlock/sim-ca.pem\n`)).config).toMatchObject({
      light: id,
      ca: '/etc/genlock/sim-ca.pem',
    })
    expect(problemsOf(() => readDeviceFile('bath.yaml', file('light: lamp\nca: ca.pem\n')))).toEqual([
      'bath.yaml:5:8 light: must be the light number (e.g. 3) or its CLIP v2 id (a uuid)',
      'bath.yaml:6:5 ca: must be an absolute path to a PEM file (genlock sim hue prints one)',
    ])
  })
})

describe('the event stream reconnects with backoff', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('doubles the wait up to the cap, resets it once connected, and says when a reconnect needs a re-read', async () => {
    const attempts: number[] = []
    const streams: PassThrough[] = []
    let failuresLeft = 4
    const connected: boolean[] = []
    const events: unknown[] = []
    const stream = new HueEventStream({
      open: async () => {
        attempts.push(Date.now())
        if (failuresLeft-- > 0) throw new Error('ECONNREFUSED')
        const response = new PassThrough()
        streams.push(response)
        return response as unknown as IncomingMessage
      },
      onEvents: (batch) => events.push(...batch),
      onConnected: (again) => connected.push(again),
      backoff: { initialMs: 100, maxMs: 400 },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      description: 'bridge',
    })
    const start = Date.now()
    stream.start()
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 400)
    expect(attempts.map((at) => at - start)).toEqual([0, 100, 300, 700, 1100])
    expect(connected).toEqual([false])
    // Server-sent events, split across chunks, with a comment line, as a bridge sends them.
    streams[0]!.write(': hi\n\nid: 1:0\ndata: [{"type":"update","data":[{"id":"a","type":"light"}]}]')
    streams[0]!.write('\n\n')
    await vi.advanceTimersByTimeAsync(0)
    expect(events).toEqual([{ type: 'update', data: [{ id: 'a', type: 'light' }] }])
    // Dropped after a good connection: the wait starts again from the initial one, and the owner re-reads.
    streams[0]!.end()
    await vi.advanceTimersByTimeAsync(100)
    expect(attempts.at(-1)! - start).toBe(1200)
    expect(connected).toEqual([false, true])
    stream.stop()
  })
})

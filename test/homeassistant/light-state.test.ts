import { describe, expect, it } from 'vitest'
import type { BulbCapabilities } from '../../src/devices/bulb.js'
import {
  LightCommandError,
  lightStatePayload,
  parseLightCommand,
  supportedColorModes,
} from '../../src/homeassistant/index.js'

const COLOUR: BulbCapabilities = { dimmable: true, color: true, colorTemp: { min: 2000, max: 6500 } }
const WHITE: BulbCapabilities = { dimmable: true, color: false, colorTemp: { min: 2700, max: 6500 } }
const RGB_ONLY: BulbCapabilities = { dimmable: true, color: true }
const DIMMER: BulbCapabilities = { dimmable: true, color: false }
const PLUG: BulbCapabilities = { dimmable: false, color: false }

describe('supportedColorModes', () => {
  it('lists the modes a bulb supports, onoff and brightness only on their own', () => {
    expect(supportedColorModes(COLOUR)).toEqual(['color_temp', 'rgb'])
    expect(supportedColorModes(WHITE)).toEqual(['color_temp'])
    expect(supportedColorModes(RGB_ONLY)).toEqual(['rgb'])
    expect(supportedColorModes(DIMMER)).toEqual(['brightness'])
    expect(supportedColorModes(PLUG)).toEqual(['onoff'])
  })
})

describe('lightStatePayload', () => {
  it('reports colour, or white, with the colour mode HA must be told', () => {
    const red = { on: true, brightness: 80, color: { r: 255, g: 0, b: 0 }, reachable: true }
    expect(lightStatePayload(red, COLOUR)).toEqual({ state: 'ON', brightness: 80, color_mode: 'rgb', color: red.color })
    const warm = { on: false, brightness: 40, colorTemp: 2700, reachable: true }
    expect(lightStatePayload(warm, COLOUR)).toEqual({
      state: 'OFF',
      brightness: 40,
      color_mode: 'color_temp',
      color_temp: 2700,
    })
  })

  it('shows a white on a colour-only bulb as its colour, and plain dimmers and plugs by their one mode', () => {
    const warm = { on: true, brightness: 40, colorTemp: 2700, reachable: true }
    const shown = lightStatePayload(warm, RGB_ONLY)
    expect(shown.color_mode).toBe('rgb')
    expect(shown.color!.r).toBeGreaterThan(shown.color!.b)
    expect(lightStatePayload(warm, DIMMER)).toEqual({ state: 'ON', brightness: 40, color_mode: 'brightness' })
    expect(lightStatePayload(warm, PLUG)).toEqual({ state: 'ON', color_mode: 'onoff' })
  })
})

describe('parseLightCommand', () => {
  it('reads what HA sends with brightness_scale 100 and kelvin colour temperatures', () => {
    expect(parseLightCommand('{"state":"ON","brightness":30,"color_temp":2700,"transition":1.5}')).toEqual({
      command: { on: true, brightness: 30, colorTemp: 2700, transition: 1500 },
      ignored: [],
    })
    expect(parseLightCommand('{"state":"ON","color":{"r":0,"g":10.4,"b":255}}').command).toEqual({
      on: true,
      color: { r: 0, g: 10, b: 255 },
    })
  })

  it('turns off without touching colour or brightness, and reports what it cannot do', () => {
    expect(parseLightCommand('{"state":"OFF","brightness":50,"transition":2}').command).toEqual({
      on: false,
      transition: 2000,
    })
    expect(parseLightCommand('{"state":"ON","effect":"colorloop","flash":"short"}').ignored).toEqual([
      'flash',
      'effect',
    ])
  })

  it('rejects malformed commands naming the field', () => {
    const problem = (payload: string) => {
      try {
        parseLightCommand(payload)
      } catch (error) {
        expect(error).toBeInstanceOf(LightCommandError)
        return (error as Error).message
      }
      throw new Error(`accepted ${payload}`)
    }
    expect(problem('ON')).toMatch(/not JSON/)
    expect(problem('[1]')).toMatch(/JSON object/)
    expect(problem('{"state":"on"}')).toMatch(/state must be "ON" or "OFF"/)
    expect(problem('{"brightness":"50"}')).toMatch(/brightness must be a number in 0–100/)
    expect(problem('{"color_temp":153}')).toMatch(/color_temp must be a number in 1000–40000/)
    expect(problem('{"color":{"r":300,"g":0,"b":0}}')).toMatch(/color\.r must be a number in 0–255/)
    expect(problem('{"color":{"h":10,"s":50}}')).toMatch(/color must be \{"r"/)
    expect(problem('{}')).toMatch(/sets nothing/)
  })
})

import { describe, expect, it } from 'vitest'
import { resolveCommand } from '../../src/devices/resolve-command.js'

const colourBulb = { dimmable: true, color: true, colorTemp: { min: 2000, max: 6500 } }

describe('resolveCommand: turning the bulb on', () => {
  it('turns the bulb on for a brightness, colour or white when on is unset', () => {
    expect(resolveCommand('bath', colourBulb, { brightness: 40 })).toEqual({ on: true, brightness: 40 })
    expect(resolveCommand('bath', colourBulb, { color: 'red' })).toEqual({ on: true, color: { r: 255, g: 0, b: 0 } })
    expect(resolveCommand('bath', colourBulb, { colorTemp: 3000 })).toEqual({ on: true, colorTemp: 3000 })
  })

  it('keeps an explicit on: false, and turns off for brightness 0', () => {
    expect(resolveCommand('bath', colourBulb, { on: false, color: 'red' })).toEqual({
      on: false,
      color: { r: 255, g: 0, b: 0 },
    })
    expect(resolveCommand('bath', colourBulb, { brightness: 0 })).toEqual({ on: false })
  })

  it('leaves power alone for a transition alone', () => {
    expect(resolveCommand('bath', colourBulb, { transition: 500 })).toEqual({ transition: 500 })
  })
})

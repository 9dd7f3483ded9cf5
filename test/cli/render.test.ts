import { describe, expect, it } from 'vitest'
import { background, colorSupport, foreground, nearestAnsi16, nearestXterm256 } from '../../src/cli/render/colors.js'
import { litRgb, renderScreen, type SimulationView } from '../../src/cli/render/screen.js'
import { table } from '../../src/cli/render/table.js'
import { parseTypedCommand } from '../../src/cli/simulate/input.js'

const RED = { r: 255, g: 0, b: 0 }

const view: SimulationView = {
  title: 'config.yaml',
  broker: 'mqtt://127.0.0.1:1883',
  elapsedMs: 12_345,
  bulbs: [
    { id: 'bath_bulb', name: 'Bath', on: true, brightness: 100, color: RED, holder: 'alarm' },
    { id: 'hall_bulb', name: 'Hall', on: false, brightness: 40, colorTemp: 2700 },
  ],
  automations: [
    { name: 'party', priority: 0, state: 'suspended', triggerKey: 'a', stopKey: 'A' },
    { name: 'alarm', priority: 200, state: 'running', triggerKey: 'b', stopKey: 'B' },
  ],
  recent: ['1.000s  > trigger alarm: home/alarm ON'],
}

describe('colorSupport', () => {
  it('takes true colour from COLORTERM, 256 from TERM, 16 otherwise, none for NO_COLOR, dumb terminals and pipes', () => {
    expect(colorSupport({ COLORTERM: 'truecolor', TERM: 'xterm' }, true)).toBe('truecolor')
    expect(colorSupport({ COLORTERM: '24bit' }, true)).toBe('truecolor')
    expect(colorSupport({ TERM: 'xterm-256color' }, true)).toBe('256')
    expect(colorSupport({ TERM: 'screen-256color', COLORTERM: '' }, true)).toBe('256')
    expect(colorSupport({ TERM: 'xterm' }, true)).toBe('16')
    expect(colorSupport({ TERM: 'dumb', COLORTERM: 'truecolor' }, true)).toBe('none')
    expect(colorSupport({ NO_COLOR: '1', COLORTERM: 'truecolor' }, true)).toBe('none')
    expect(colorSupport({ COLORTERM: 'truecolor' }, false)).toBe('none')
  })
})

describe('colour fallback', () => {
  it('true colour writes the exact RGB', () => {
    expect(background({ r: 12, g: 34, b: 56 }, '  ', 'truecolor')).toBe('\x1b[48;2;12;34;56m  \x1b[0m')
  })

  it('256 colours pick the nearest cube entry or grey', () => {
    expect(nearestXterm256(RED)).toBe(196)
    expect(nearestXterm256({ r: 0, g: 0, b: 255 })).toBe(21)
    expect(nearestXterm256({ r: 255, g: 255, b: 0 })).toBe(226)
    expect(nearestXterm256({ r: 128, g: 128, b: 128 })).toBe(244)
    expect(background(RED, '  ', '256')).toBe('\x1b[48;5;196m  \x1b[0m')
  })

  it('16 colours pick the nearest ANSI colour, bright ones as 100–107', () => {
    expect(nearestAnsi16(RED)).toBe(9)
    expect(nearestAnsi16({ r: 180, g: 0, b: 0 })).toBe(1)
    expect(nearestAnsi16({ r: 10, g: 10, b: 10 })).toBe(0)
    expect(background(RED, '  ', '16')).toBe('\x1b[101m  \x1b[0m')
    expect(background({ r: 0, g: 190, b: 0 }, '  ', '16')).toBe('\x1b[42m  \x1b[0m')
  })

  it('foreground colours fall back the same way', () => {
    expect(foreground(RED, 'x', 'truecolor')).toBe('\x1b[38;2;255;0;0mx\x1b[0m')
    expect(foreground(RED, 'x', '256')).toBe('\x1b[38;5;196mx\x1b[0m')
    expect(foreground(RED, 'x', '16')).toBe('\x1b[91mx\x1b[0m')
    expect(foreground(RED, 'x', 'none')).toBe('x')
  })

  it('none writes no escape codes at all', () => {
    expect(background(RED, '  ', 'none')).toBe('  ')
    expect(renderScreen(view, 'none')).not.toContain('\x1b')
  })
})

describe('renderScreen', () => {
  it('shows each bulb with its swatch, power, brightness, colour and holder', () => {
    const screen = renderScreen(view, 'none')
    expect(screen).toMatch(/\[####\] bath_bulb\s+on\s+100%\s+#ff0000\s+held by alarm/)
    expect(screen).toMatch(/\[ {4}\] hall_bulb\s+off\s+40%\s+2700K\s+free/)
  })

  it('shows each automation with its keys, priority and state, waiting and suspended included', () => {
    const screen = renderScreen(view, 'none')
    expect(screen).toMatch(/\[a\/A\] party\s+prio 0\s+⏸ suspended/)
    expect(screen).toMatch(/\[b\/B\] alarm\s+prio 200\s+▶ running/)
    expect(screen).toContain('> trigger alarm: home/alarm ON')
    expect(screen).toContain('12.3s')
  })

  it('draws the swatch in the colour the lamp shows, in every mode', () => {
    expect(renderScreen(view, 'truecolor')).toContain('\x1b[48;2;255;0;0m      \x1b[0m bath_bulb')
    expect(renderScreen(view, '256')).toContain('\x1b[48;5;196m      \x1b[0m bath_bulb')
    expect(renderScreen(view, '16')).toContain('\x1b[101m      \x1b[0m bath_bulb')
    // Off is a faint pattern in the colour it would show: 2700 K is a warm white (yellow among the 16).
    expect(renderScreen(view, 'truecolor')).toContain('\x1b[38;2;255;174;91m░░░░░░\x1b[0m hall_bulb')
    expect(renderScreen(view, '16')).toContain('\x1b[33m░░░░░░\x1b[0m hall_bulb')
  })

  it('dims the swatch with brightness but keeps it visible', () => {
    expect(litRgb({ id: 'x', name: 'x', on: true, brightness: 0, color: RED })).toEqual({ r: 64, g: 0, b: 0 })
    expect(litRgb({ id: 'x', name: 'x', on: true, brightness: 100, color: RED })).toEqual(RED)
  })

  it('shows the key help, or the command being typed', () => {
    expect(renderScreen(view, 'none')).toContain('keys: a fires, A stops · : types a command · q quits')
    expect(renderScreen({ ...view, prompt: 'trigger pa' }, 'none')).toMatch(/^:trigger pa█ {2}\(trigger\|stop <name>/m)
  })

  it('is a pure function of the view', () => {
    expect(renderScreen(view, '256')).toBe(renderScreen(structuredClone(view), '256'))
  })
})

describe('table', () => {
  it('aligns columns and does not pad the last one', () => {
    expect(
      table(
        ['A', 'LONGER'],
        [
          ['xyz', '1'],
          ['', '22'],
        ],
      ),
    ).toBe('A    LONGER\nxyz  1\n     22')
  })
})

describe('typed commands', () => {
  it('understands trigger/stop and on/off in either order, and quit', () => {
    expect(parseTypedCommand('trigger party')).toEqual({ action: 'trigger', automation: 'party' })
    expect(parseTypedCommand('  alarm on ')).toEqual({ action: 'trigger', automation: 'alarm' })
    expect(parseTypedCommand('stop alarm')).toEqual({ action: 'stop', automation: 'alarm' })
    expect(parseTypedCommand('party off')).toEqual({ action: 'stop', automation: 'party' })
    expect(parseTypedCommand('quit')).toEqual({ action: 'quit' })
    expect(parseTypedCommand('dance')).toBeUndefined()
  })
})

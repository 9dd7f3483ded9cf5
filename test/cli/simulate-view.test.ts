import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import { describe, expect, it } from 'vitest'
import { fit, renderScreen, type SimulationView } from '../../src/cli/render/screen.js'
import { parseCommand } from '../../src/cli/simulate/input.js'
import { automationKeys } from '../../src/cli/simulate/keys.js'
import { checkScriptNames, readScript } from '../../src/cli/simulate/script.js'
import { parseStartTime } from '../../src/cli/simulate/start-time.js'
import { timelineFormatter } from '../../src/cli/simulate/timeline.js'

const RED = { r: 255, g: 0, b: 0 }

/** What config.example.yaml simulates: three bulbs, six automations, and a long history. */
const busy: SimulationView = {
  title: 'config.example.yaml',
  broker: 'mqtt://127.0.0.1:40123',
  elapsedMs: 754_000,
  clock: 'thu 2026-12-24 06:47:34',
  speed: 60,
  bulbs: [
    { id: 'bath_bulb', name: 'Bath', on: true, brightness: 100, color: RED, holder: 'alarm' },
    { id: 'hall_bulb', name: 'Hall', on: false, brightness: 40, colorTemp: 2700 },
    { id: 'kitchen_strip', name: 'Kitchen', on: true, brightness: 40, color: RED, holder: 'kitchen_scene' },
  ],
  automations: ['alarm', 'doorbell', 'kitchen_scene', 'night_light', 'party', 'wake_up'].map((name, i) => ({
    name,
    priority: i * 10,
    state: name === 'wake_up' ? 'suspended' : 'idle',
    triggerKey: name[0]!,
    stopKey: name[0]!.toUpperCase(),
    ...(name === 'party' ? { lastError: 'bath_bulb: a very long error message that goes on and on and on' } : {}),
  })),
  recent: Array.from({ length: 30 }, (_, i) => `06:47:${String(i).padStart(2, '0')}.000  event number ${i}`),
}

const visible = (line: string) => [...stripVTControlCharacters(line)].length

describe('the frame fits the terminal', () => {
  it('in 60×20: never more than 20 lines or 60 columns, with the title, the clock, every bulb and automation', () => {
    for (const mode of ['none', 'truecolor'] as const) {
      const lines = renderScreen(busy, mode, { columns: 60, rows: 20 }).split('\n')
      expect(lines.length).toBeLessThanOrEqual(20)
      for (const line of lines) expect(visible(line)).toBeLessThanOrEqual(60)
      const text = stripVTControlCharacters(lines.join('\n'))
      expect(lines[0]).toContain('genlock simulate — config.example.yaml')
      expect(text).toContain('thu 2026-12-24 06:47:34 · ×60')
      for (const id of ['bath_bulb', 'hall_bulb', 'kitchen_strip']) expect(text).toContain(id)
      for (const automation of busy.automations) expect(text).toContain(`${automation.name} `)
      // The newest event is shown, the oldest ones give way.
      expect(text).toContain('event number 29')
      expect(text).not.toContain('event number 0\n')
      expect(lines.at(-1)).toContain('keys:')
    }
  })

  it('when even the lists do not fit, the first ones stay and the rest is counted', () => {
    const many = { ...busy, bulbs: Array.from({ length: 30 }, (_, i) => ({ ...busy.bulbs[1]!, id: `bulb_${i}` })) }
    const lines = renderScreen(many, 'none', { columns: 60, rows: 20 }).split('\n')
    expect(lines).toHaveLength(20)
    expect(lines[0]).toContain('genlock simulate')
    expect(lines.slice(2, 4)).toEqual([
      'BULBS',
      expect.stringMatching(/^ {2}\[ {4}\] bulb_0\s+off\s+40%\s+2700K\s+free$/),
    ])
    expect(lines[4]).toMatch(/^ {2}\[ {4}\] bulb_1\s/)
    expect(lines.some((line) => /… \d+ more/.test(line))).toBe(true)
    expect(lines.at(-1)).toContain('keys:')
  })

  it('a bigger terminal shows more history', () => {
    const small = renderScreen(busy, 'none', { columns: 60, rows: 20 })
    const big = renderScreen(busy, 'none', { columns: 120, rows: 40 })
    const events = (frame: string) => frame.split('\n').filter((line) => line.includes('event number')).length
    expect(events(big)).toBeGreaterThan(events(small))
    expect(big.split('\n').length).toBeLessThanOrEqual(40)
  })

  it('fit cuts on screen characters, keeps colour codes whole and resets them after a cut', () => {
    expect(fit('abcdef', 4)).toBe('abc…')
    expect(fit('abcd', 4)).toBe('abcd')
    expect(fit('\x1b[1mabcdef\x1b[0m', 4)).toBe('\x1b[1mabc…\x1b[0m')
    expect(fit('\x1b[48;2;1;2;3m      \x1b[0m x', 8)).toBe('\x1b[48;2;1;2;3m      \x1b[0m x')
  })
})

describe('automation keys', () => {
  it('come from the name, so adding an automation leaves the others alone', () => {
    const before = automationKeys(['party', 'alarm', 'wake_up'])
    expect(Object.fromEntries(before)).toEqual({ alarm: 'a', party: 'p', wake_up: 'w' })
    const after = automationKeys(['doorbell', 'party', 'alarm', 'wake_up', 'night_light', 'kitchen_scene'])
    for (const [name, key] of before) expect(after.get(name)).toBe(key)
    expect(Object.fromEntries(after)).toMatchObject({ doorbell: 'd', night_light: 'n', kitchen_scene: 'k' })
  })

  it('never q (quit); a taken letter passes to the next letter of the name; every key is different', () => {
    expect(Object.fromEntries(automationKeys(['party', 'pulse']))).toEqual({ party: 'p', pulse: 'u' })
    const keys = automationKeys(['party', 'pulse', 'quiet', 'queue'])
    expect([...keys.values()]).not.toContain('q')
    expect(new Set(keys.values()).size).toBe(4)
    const lots = automationKeys(Array.from({ length: 30 }, (_, i) => `a${i}`))
    expect(lots.size).toBe(25)
  })
})

describe('commands', () => {
  it('publish, set (an outside change), advance, besides trigger, stop and quit', () => {
    expect(parseCommand('publish home/alarm ON')).toEqual({ action: 'publish', topic: 'home/alarm', payload: 'ON' })
    expect(parseCommand('publish home/kitchen/scene {"scene": "dinner"}')).toEqual({
      action: 'publish',
      topic: 'home/kitchen/scene',
      payload: '{"scene": "dinner"}',
    })
    expect(parseCommand('set bath_bulb on 40% 2700K')).toEqual({
      action: 'set',
      device: 'bath_bulb',
      change: { on: true, brightness: 40, colorTemp: 2700 },
      text: 'on 40% 2700K',
    })
    expect(parseCommand('set hall_bulb red')).toMatchObject({ change: { color: 'red' } })
    expect(parseCommand('advance 10m')).toEqual({ action: 'advance', ms: 600_000, text: '10m' })
    expect(parseCommand('advance 00:00:05')).toMatchObject({ ms: 5000 })
    expect(parseCommand('trigger party')).toEqual({ action: 'trigger', automation: 'party' })
    expect(parseCommand('alarm off')).toEqual({ action: 'stop', automation: 'alarm' })
    expect(parseCommand('quit')).toEqual({ action: 'quit' })
  })

  it('say what is wrong', () => {
    expect(parseCommand('advance soon')).toEqual({
      problem: "advance: 'soon' is not a duration (write 30s, 10m, 1h or 00:10:00)",
    })
    expect(parseCommand('publish home/# ON')).toMatchObject({ problem: expect.stringMatching(/^publish home\/#: /) })
    expect(parseCommand('set bath_bulb reddish')).toMatchObject({
      problem: expect.stringContaining("set bath_bulb: 'reddish' is not on, off, a brightness"),
    })
    expect(parseCommand('set bath_bulb 140%')).toMatchObject({ problem: 'set bath_bulb: brightness 140% is over 100%' })
    expect(parseCommand('dance')).toMatchObject({ problem: expect.stringContaining('not a command: dance (try: ') })
  })
})

describe('scripts', () => {
  const script = (text: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'genlock-sim-script-')), 'test.sim')
    writeFileSync(file, text)
    return file
  }

  it('read one command a line, comments and blank lines left out, and the start time first', () => {
    const file = script('# a morning\nstart 2026-12-24T06:38\n\n  advance 2m   # the ramp\ntrigger alarm\nquit\n')
    const { start, commands } = readScript(file)
    expect(start).toEqual({ text: '2026-12-24T06:38', line: 2, column: 7 })
    expect(commands.map(({ line, column, command }) => [line, column, command.action])).toEqual([
      [4, 3, 'advance'],
      [5, 1, 'trigger'],
      [6, 1, 'quit'],
    ])
  })

  it('name file:line:column for a line that is no command, a late start, or a name not in the simulation', () => {
    const bad = script('advance 2m\n  dance now please\n')
    expect(() => readScript(bad)).toThrow(`${bad}:2:3 not a command: dance now please`)
    const late = script('advance 2m\nstart 06:00\n')
    expect(() => readScript(late)).toThrow(`${late}:2:1 start: only the first command of a script says when it starts`)
    const names = script('trigger party\n  set hall_bulb off\n')
    const { commands } = readScript(names)
    expect(() => checkScriptNames(names, commands, ['party'], ['bath_bulb'])).toThrow(
      `${names}:2:7 unknown device 'hall_bulb' (there are: bath_bulb)`,
    )
    expect(() => readScript('/nonexistent/x.sim')).toThrow(/^cannot read the script \/nonexistent\/x\.sim: ENOENT/)
  })
})

describe('--start', () => {
  const now = Date.parse('2026-06-01T12:00:00Z')
  it('is a wall-clock time in the config time zone, or today at a time, or exact with an offset', () => {
    expect(parseStartTime('2026-12-24T06:55', 'Europe/Berlin', now)).toBe(Date.parse('2026-12-24T06:55:00+01:00'))
    expect(parseStartTime('2026-06-24 06:55:30', 'Europe/Berlin', now)).toBe(Date.parse('2026-06-24T06:55:30+02:00'))
    expect(parseStartTime('06:35', 'America/New_York', now)).toBe(Date.parse('2026-06-01T06:35:00-04:00'))
    expect(parseStartTime('2026-12-24T06:55:00Z', 'Europe/Berlin', now)).toBe(Date.parse('2026-12-24T06:55:00Z'))
    expect(parseStartTime('2026-02-30T06:55', 'UTC', now)).toBeUndefined()
    expect(parseStartTime('tomorrow', 'UTC', now)).toBeUndefined()
  })
})

describe('the headless timeline', () => {
  it('is stamped with the virtual local time, the date when it changes, and no broker port for a script', () => {
    const format = timelineFormatter({ broker: false })
    const at = Date.parse('2026-12-24T23:59:59.500+01:00')
    const start = format({
      t: 0,
      type: 'start',
      at,
      time: '2026-12-24T23:59:59+01:00',
      timezone: 'Europe/Berlin',
      broker: 'mqtt://127.0.0.1:41234',
      devices: ['bath_bulb'],
      automations: ['alarm'],
    })
    expect(start).toBe('2026-12-24 23:59:59.500  started (thu, Europe/Berlin): 1 bulbs, automations alarm')
    expect(format({ t: 250, type: 'input', action: 'advance', ms: 1000, by: '1s' })).toBe('23:59:59.750  > advance 1s')
    expect(format({ t: 1500, type: 'input', action: 'set', device: 'bath_bulb', change: 'off' })).toBe(
      '2026-12-25 00:00:01.000  > set bath_bulb off (outside genlock)',
    )
    expect(format({ t: 1500, type: 'end' })).toBe('00:00:01.000  quit')
  })
})

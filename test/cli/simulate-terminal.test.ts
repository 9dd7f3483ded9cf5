import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { genlockArgv } from './support/genlock-process.js'
import { TmuxSession } from './support/tmux.js'

const ROOT = join(import.meta.dirname, '../..')
const ENV = { COLORTERM: 'truecolor', TERM: 'xterm-256color', TZ: 'UTC' }
const line = (screen: string, text: string) => screen.split('\n').find((row) => row.includes(text)) ?? ''
const resize = (tmux: TmuxSession, columns: number, rows: number) =>
  promisify(execFile)('tmux', [
    '-L',
    tmux.socket,
    'resize-window',
    '-t',
    tmux.name,
    '-x',
    `${columns}`,
    '-y',
    `${rows}`,
  ])

/** The shipped setup: three bulbs, six automations. */
const simulate = (...args: string[]) => genlockArgv('simulate', '--config', join(ROOT, 'config.example.yaml'), ...args)

describe('genlock simulate in a small terminal', () => {
  it('fits 60×20 with the title and the bulbs in view, keys from the names, and redraws on resize', async () => {
    const tmux = await TmuxSession.start(simulate(), { env: ENV, width: 60, height: 20 })
    try {
      const first = await tmux.waitForScreen((screen) => screen.includes('kitchen_strip') && screen.includes('wake_up'))
      const rows = first.split('\n')
      expect(rows[0]).toContain('genlock simulate')
      for (const id of ['bath_bulb', 'hall_bulb', 'kitchen_strip']) expect(first).toContain(id)
      // Keys from the names: the first letter of each here.
      for (const name of ['alarm', 'doorbell', 'kitchen_scene', 'night_light', 'party', 'wake_up'])
        expect(line(first, ` ${name} `)).toContain(`[${name[0]}/${name[0]!.toUpperCase()}] ${name}`)

      // A typed outside change: the bulb reports a state genlock did not command.
      await tmux.sendKeys(':set bath_bulb on 30% red\r')
      await tmux.waitForScreen((screen) => /bath_bulb\s+on\s+30%\s+#ff0000/.test(screen))

      // Bigger: drawn again at once, with room for the history.
      await resize(tmux, 100, 40)
      const big = await tmux.waitForScreen((screen) => screen.includes('> set bath_bulb on 30% red (outside genlock)'))
      expect(big.split('\n')[0]).toContain('genlock simulate')
      expect(big).toMatch(/started \(\w+, UTC\): 3 bulbs/)
      // And back: nothing left over from the big frame, the title still on top.
      await resize(tmux, 60, 20)
      const small = await tmux.waitForScreen((screen) => !/started \(/.test(screen))
      expect(small.split('\n')[0]).toContain('genlock simulate')
      expect(small).toContain('kitchen_strip')
      for (const row of small.split('\n')) expect(row.length).toBeLessThanOrEqual(60)

      await tmux.sendKeys('q')
      await tmux.waitForExit()
    } finally {
      await tmux.kill()
    }
  })

  it('runs its clock at --speed from --start, and advance jumps it', async () => {
    // At 60× the wake-up ramp's 06:40 is a few real seconds away (2026-12-01 is a Tuesday).
    const tmux = await TmuxSession.start(simulate('--speed', '60', '--start', '2026-12-01T06:39:55'), {
      env: ENV,
      width: 60,
      height: 20,
    })
    try {
      const ramping = await tmux.waitForScreen((screen) => /held by wake_up/.test(line(screen, 'bath_bulb')))
      expect(ramping.split('\n')[1]).toMatch(/^tue 2026-12-01 06:4\d:\d\d · ×60 · /)
      expect(line(ramping, ' wake_up ')).toContain('▶ running')

      await tmux.sendKeys(':advance 10m\r')
      const advanced = await tmux.waitForScreen((screen) => / 06:5\d:\d\d · ×60/.test(screen.split('\n')[1] ?? ''))
      expect(line(advanced, 'bath_bulb')).toMatch(/on\s+[4-6]\d%/)

      await tmux.sendKeys('q')
      await tmux.waitForExit()
    } finally {
      await tmux.kill()
    }
  })
})

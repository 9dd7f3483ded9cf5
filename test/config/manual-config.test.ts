import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/config.js'
import { writeSetup } from '../cli/setup-files.js'
import { problemsOf } from '../support/config-problems.js'

function load(config: string) {
  const { configFile } = writeSetup({ config })
  return { configFile, load: () => loadConfig(configFile, {}) }
}

describe('config.yaml manual', () => {
  it('holds a person’s change for 30 minutes at priority 100 by default, released by switching off', () => {
    expect(load('').load().manual).toEqual({ priority: 100, holdMs: 30 * 60_000, releaseOnOff: true })
  })

  it('takes homeassistant.manual_priority as the priority unless manual.priority is given', () => {
    expect(load('homeassistant: { manual_priority: 150 }\n').load().manual.priority).toBe(150)
    const both = load('homeassistant: { manual_priority: 150 }\nmanual: { priority: 250 }\n').load()
    expect(both.manual.priority).toBe(250)
  })

  it('takes any duration for hold, 0 for momentary, and names a bad one', () => {
    expect(load('manual: { hold: 10m, release_on_off: false }\n').load().manual).toMatchObject({
      holdMs: 600_000,
      releaseOnOff: false,
    })
    expect(load('manual: { hold: 0 }\n').load().manual.holdMs).toBe(0)
    expect(load('manual: { hold: { hours: 1 } }\n').load().manual.holdMs).toBe(3_600_000)
    const { configFile, load: bad } = load('manual:\n  hold: soon\n')
    expect(problemsOf(bad)).toEqual([
      expect.stringMatching(new RegExp(`^${configFile}:2:9 manual\\.hold: must be a duration`)),
    ])
  })
})

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/config.js'
import { formatProblem, type ConfigError } from '../../src/config/problems.js'

function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'genlock-time-config-'))
  for (const folder of ['devices', 'automations']) mkdirSync(join(dir, folder))
  writeFileSync(join(dir, 'config.yaml'), text)
  return join(dir, 'config.yaml')
}

function problems(text: string): string[] {
  try {
    loadConfig(configFile(text))
  } catch (error) {
    return (error as ConfigError).problems.map((problem) => formatProblem(problem).replace(/^.*config\.yaml:/, ''))
  }
  return []
}

describe('config.yaml timezone and location', () => {
  it("default to the machine's own zone (left unnamed, for Intl to read when a time is shown) and no location", () => {
    const config = loadConfig(configFile('mqtt: { embedded: true }\n'))
    expect(config.timezone).toBeUndefined()
    expect(config.location).toBeUndefined()
  })

  it('take an IANA zone and decimal degrees', () => {
    const config = loadConfig(configFile('timezone: Europe/Berlin\nlocation: { latitude: 52.52, longitude: 13.405 }\n'))
    expect(config.timezone).toBe('Europe/Berlin')
    expect(config.location).toEqual({ latitude: 52.52, longitude: 13.405 })
  })

  it('name a zone that does not exist, and a latitude out of range, with line and column', () => {
    expect(problems('timezone: Europe/Berln\nlocation: { latitude: 95, longitude: 13 }\n')).toEqual([
      '1:11 timezone: unknown time zone: use an IANA name such as Europe/Berlin or America/New_York',
      expect.stringMatching(/^2:23 location\.latitude: .*90/),
    ])
  })
})

import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ALARM, PARTY, simBulb, writeSetup } from './setup-files.js'

const cli = join(import.meta.dirname, '../../src/cli/index.ts')

/** Runs the real CLI in its own process (through tsx, from source). */
function genlock(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', cli, ...args], (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
  })
}

describe('genlock validate', () => {
  it('prints a one-line summary and exits 0 when all is well', async () => {
    const { configFile } = writeSetup({
      config: 'mqtt: { embedded: true }\n',
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
      automations: { 'party.yaml': PARTY, 'alarm.yaml': ALARM },
    })
    const result = await genlock('validate', '--config', configFile)
    expect(result.stdout).toMatch(/OK — 1 devices, 2 automations, embedded broker on 127\.0\.0\.1:1883, memory locks/)
    expect(result.code).toBe(0)
  })

  it('prints every problem with file:line:col and field, and exits 1', async () => {
    const { dir, configFile } = writeSetup({
      config: 'mqtt: { embedded: true }\n',
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb'), 'bad.yaml': 'id: bad\nadapter: sim\nlatencyMs: slow\n' },
      automations: {
        'syntax.yaml': 'name: syntax\nsteps: [\n',
        'unknown-device.yaml': PARTY.replace('name: party', 'name: p2').replace('[bath_bulb]', '[attic_bulb]'),
        'unknown-step.yaml': PARTY.replace('name: party', 'name: p3').replace('- wait: 1s', '- dance: 1s'),
        'wrong-type.yaml': ALARM.replace('priority: 200', 'priority: high'),
      },
    })
    const result = await genlock('validate', '--config', configFile)
    const lines = result.stderr.trim().split('\n')
    const at = (file: string) => new RegExp(`^${join(dir, file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+ `)
    expect(lines.some((line) => at('devices/bad.yaml').test(line) && line.includes('latencyMs'))).toBe(true)
    expect(lines.some((line) => at('automations/syntax.yaml').test(line))).toBe(true)
    expect(lines.some((line) => at('automations/unknown-device.yaml').test(line) && /attic_bulb/.test(line))).toBe(true)
    expect(lines.some((line) => at('automations/unknown-step.yaml').test(line) && /dance/.test(line))).toBe(true)
    expect(lines.some((line) => at('automations/wrong-type.yaml').test(line) && /priority/.test(line))).toBe(true)
    expect(lines.at(-1)).toMatch(/^\d+ problems found$/)
    expect(result.code).toBe(1)
  })

  it('reports a broken config file itself with line and column', async () => {
    const { configFile } = writeSetup({ config: 'mqtt: { embedded: yes please }\nlog: { level: loud }\n' })
    const result = await genlock('validate', '--config', configFile)
    expect(result.stderr).toMatch(/config\.yaml:1:\d+ mqtt\.embedded: /)
    expect(result.stderr).toMatch(/config\.yaml:2:\d+ log\.level: /)
    expect(result.code).toBe(1)
  })

  it('passes the shipped config.example.yaml with its devices/ and automations/', async () => {
    const result = await genlock('validate', '--config', join(import.meta.dirname, '../../config.example.yaml'))
    expect(result.stderr).toBe('')
    expect(result.stdout).toMatch(/config\.example\.yaml: OK — \d+ devices, \d+ automations, embedded broker/)
    expect(result.code).toBe(0)
  })

  it('prints the version', async () => {
    const result = await genlock('--version')
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })
})

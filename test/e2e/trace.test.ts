/**
 * `genlock trace` from the installed package under plain node: it reads the trace file a daemon left under
 * data_dir and prints the run as a timeline, or says which runs exist.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { writeSetup } from '../cli/setup-files.js'
import { installedPackage } from './support/installed-package.js'
import { runGenlock } from './support/user-cli.js'

const installed = await installedPackage()

describe('genlock trace (installed package)', () => {
  it('prints the last run, a chosen one, and says which runs are kept', async () => {
    const { dir, configFile } = writeSetup({ config: 'data_dir: ./data\ntimezone: UTC\n' })
    const at = Date.UTC(2026, 11, 1, 7, 0, 0, 12)
    const run = (number: number) => ({
      automation: 'party',
      number,
      started: at,
      ended: at + 131_400,
      result: 'stopped',
      preemptedBy: { holder: 'alarm', priority: 200 },
      entries: [
        { at, type: 'triggered', via: { kind: 'mqtt', topic: 'home/party', payload: 'ON' } },
        { at: at + 2, type: 'running' },
        { at: at + 3, type: 'step', path: 'steps.2', kind: 'set', phase: 'start' },
        {
          at: at + 5000,
          type: 'preempted',
          step: 'steps.2',
          code: 'PREEMPTED',
          by: { holder: 'alarm', priority: 200 },
        },
        { at: at + 5000, type: 'recovered', action: 'resume' },
        { at: at + 131_388, type: 'running' },
        { at: at + 131_400, type: 'ended', outcome: 'stopped' },
      ],
    })
    mkdirSync(join(dir, 'data', 'traces'), { recursive: true })
    writeFileSync(join(dir, 'data', 'traces', 'party.json'), JSON.stringify({ next: 3, runs: [run(1), run(2)] }))

    const last = await runGenlock(installed, ['trace', 'party', '--config', configFile], { cwd: dir })
    expect(last.code).toBe(0)
    expect(last.stdout).toMatch(
      /^party run 2: stopped, started 2026-12-01 07:00:00, preempted by alarm \(priority 200\)\n/,
    )
    expect(last.stdout).toContain('07:00:00.015 step 3 (set)\n')
    expect(last.stdout).toContain('07:00:05.012 preempted by alarm (priority 200) at step 3\n')
    expect(last.stdout).toContain('07:02:11.400 got the lock back: resumed at step 3\n')

    const first = await runGenlock(installed, ['trace', 'party', '--run', '1', '--json', '--config', configFile], {
      cwd: dir,
    })
    expect(JSON.parse(first.stdout)).toMatchObject({ number: 1, result: 'stopped' })

    const missing = await runGenlock(installed, ['trace', 'party', '--run', '9', '--config', configFile], { cwd: dir })
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/genlock trace: 'party' has no run 9 kept; runs 1–2/)
  })
})

/**
 * The start-up and memory work of issue 18, checked on the package as a user installs it (plain node, production
 * dependencies only), not only on the sources: `genlock run` with a sim bulb on the embedded broker loads none of
 * the optional parts, reads no time zone data, and once ready gives V8 `--optimize-for-size`. The probes are the
 * source-level tests' own (test/daemon/lazy-loading.test.ts, test/cli/favour-memory.test.ts), preloaded through
 * NODE_OPTIONS as a user could; node runs them with its built-in type stripping.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BLINK, simBulb, writeSetup } from '../cli/setup-files.js'
import { optionalPartsLoaded } from '../support/optional-modules.js'
import { freePort } from '../support/services.js'
import { installedPackage, type InstalledPackage } from './support/installed-package.js'
import { UserProcess } from './support/user-cli.js'

const installed: InstalledPackage = await installedPackage()

const PROBES = {
  GENLOCK_MODULES_OUT: 'record-modules.ts',
  GENLOCK_TIME_ZONE_READS_OUT: 'record-time-zone-reads.ts',
  GENLOCK_V8_TAG_OUT: 'record-v8-tag.ts',
}

/** V8's flag-derived cached-data tag of a fresh plain node given `flags`. */
function v8Tag(flags: string[]): number {
  return Number(execFileSync(process.execPath, [...flags, '-p', 'require("node:v8").cachedDataVersionTag()']))
}

describe('the installed daemon starts lean', () => {
  it('loads none of the optional parts, reads no time zone data, and turns on --optimize-for-size once ready', async () => {
    const port = await freePort()
    const { dir, configFile } = writeSetup({
      config: `mqtt: { embedded: true, port: ${port} }\n`,
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
      automations: { 'blink.yaml': BLINK },
    })
    const out = mkdtempSync(join(tmpdir(), 'genlock-lean-'))
    const files = Object.fromEntries(Object.keys(PROBES).map((variable) => [variable, join(out, variable)]))
    const preload = Object.values(PROBES).map((probe) => `--import ${join(import.meta.dirname, '../support', probe)}`)
    const daemon = UserProcess.start(installed, ['run', '--config', configFile], {
      cwd: dir,
      env: { ...files, NODE_OPTIONS: preload.join(' ') },
    })
    try {
      await daemon.waitForLog((entry) => entry.msg === 'genlock ready')
    } finally {
      await daemon.stop()
    }

    const modules = readFileSync(files.GENLOCK_MODULES_OUT!, 'utf8').split('\n')
    expect(modules.some((url) => url.includes(`${installed.packageDir}/dist/devices/sim/`))).toBe(true)
    expect(optionalPartsLoaded(modules)).toEqual([])
    expect(Number(readFileSync(files.GENLOCK_TIME_ZONE_READS_OUT!, 'utf8'))).toBe(0)
    const tags = JSON.parse(readFileSync(files.GENLOCK_V8_TAG_OUT!, 'utf8')) as { atStart: number; atExit: number }
    expect(tags.atStart).toBe(v8Tag([]))
    expect(tags.atExit).toBe(v8Tag(['--optimize-for-size']))
  })
})

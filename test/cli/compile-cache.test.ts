/**
 * The CLI keeps V8's compiled code in a folder of the user's own (src/cli/compile-cache.ts), never in the shared
 * os.tmpdir(), and a folder it cannot write never stops it.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const cli = join(import.meta.dirname, '../../src/cli/index.ts')

function genlockVersion(env: Record<string, string>) {
  const { NODE_COMPILE_CACHE: _cache, XDG_CACHE_HOME: _xdg, ...rest } = process.env
  return spawnSync(process.execPath, ['--import', 'tsx', cli, '--version'], {
    env: { ...rest, ...env },
    encoding: 'utf8',
  })
}

describe('compile cache', () => {
  it('is kept under the user cache folder, not in the temp folder', () => {
    const home = mkdtempSync(join(tmpdir(), 'genlock-cache-home-'))
    const temp = mkdtempSync(join(tmpdir(), 'genlock-cache-tmp-'))
    const run = genlockVersion({ XDG_CACHE_HOME: join(home, 'cache'), TMPDIR: temp })
    expect(run.status).toBe(0)
    expect(readdirSync(join(home, 'cache', 'genlock', 'compile')).length).toBeGreaterThan(0)
    expect(existsSync(join(temp, 'node-compile-cache'))).toBe(false)
  })

  it('starts without it when its folder cannot be written', () => {
    const run = genlockVersion({ NODE_COMPILE_CACHE: '/proc/genlock-cannot-be-here' })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })
})

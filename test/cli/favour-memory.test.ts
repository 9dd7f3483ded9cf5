/**
 * src/cli/favour-memory.ts: once ready, the daemon gives V8 `--optimize-for-size` itself, instead of the image's
 * command line, where it made every start ~45 ms slower. V8's cached-data version tag is derived from its flags,
 * so a process that turned the flag on must carry the same tag as one started with it. Checked in fresh processes,
 * as the call changes the process's V8 for good.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runWithProbe } from '../daemon/daemon-process.js'
import { freePort } from '../support/services.js'
import { simBulb, writeSetup } from './setup-files.js'

const module = new URL('../../src/cli/favour-memory.ts', import.meta.url).href
const recorder = join(import.meta.dirname, '../support/record-v8-tag.ts')

/** V8's flag-derived tag in a fresh node with `flags`, before and after favourMemoryFromNowOn(). */
function tags(flags: string[]): { before: number; after: number } {
  const script = `
    const v8 = await import('node:v8')
    const before = v8.cachedDataVersionTag()
    const { favourMemoryFromNowOn } = await import(${JSON.stringify(module)})
    favourMemoryFromNowOn()
    console.log(JSON.stringify({ before, after: v8.cachedDataVersionTag() }))
  `
  const out = execFileSync(process.execPath, [...flags, '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  })
  return JSON.parse(out.trim().split('\n').at(-1)!) as { before: number; after: number }
}

describe('favourMemoryFromNowOn', () => {
  it('leaves V8 as if it had been started with --optimize-for-size', () => {
    const plain = tags([])
    const started = tags(['--optimize-for-size'])
    expect(plain.after).not.toBe(plain.before)
    expect(plain.after).toBe(started.before)
    expect(started.after).toBe(started.before)
  })

  it('changes nothing when node was told --no-optimize-for-size, in either spelling V8 takes', () => {
    for (const flag of ['--no-optimize-for-size', '--no_optimize_for_size']) {
      const refused = tags([flag])
      expect(refused.after).toBe(refused.before)
    }
  })

  it('is what `genlock run` does once ready: its V8 ends as one started with --optimize-for-size', async () => {
    const port = await freePort()
    const { configFile } = writeSetup({
      config: `mqtt: { embedded: true, port: ${port} }\n`,
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
    })
    const probed = await runWithProbe(configFile, recorder, 'GENLOCK_V8_TAG_OUT')
    const { atStart, atExit } = JSON.parse(probed) as { atStart: number; atExit: number }
    expect(atStart).toBe(tags([]).before)
    expect(atExit).toBe(tags(['--optimize-for-size']).before)
  })
})

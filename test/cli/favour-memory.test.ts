/**
 * src/cli/favour-memory.ts: once ready, the daemon gives V8 `--optimize-for-size` itself, instead of the image's
 * command line, where it made every start ~45 ms slower. V8's cached-data version tag is derived from its flags,
 * so a process that turned the flag on must carry the same tag as one started with it. Checked in fresh processes,
 * as the call changes the process's V8 for good.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DaemonProcess } from '../daemon/daemon-process.js'
import { freePort } from '../support/services.js'
import { simBulb, writeSetup } from './setup-files.js'

const module = new URL('../../src/cli/favour-memory.ts', import.meta.url).href
const cli = join(import.meta.dirname, '../../src/cli/index.ts')
const recorder = join(import.meta.dirname, '../support/record-v8-tag.ts')

let daemon: DaemonProcess | undefined
afterEach(async () => {
  await daemon?.stop()
  daemon = undefined
})

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

  it('changes nothing when node was told --no-optimize-for-size', () => {
    const refused = tags(['--no-optimize-for-size'])
    expect(refused.after).toBe(refused.before)
  })

  it('is what `genlock run` does once ready: its V8 ends as one started with --optimize-for-size', async () => {
    const port = await freePort()
    const { configFile } = writeSetup({
      config: `mqtt: { embedded: true, port: ${port} }\n`,
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
    })
    const out = join(mkdtempSync(join(tmpdir(), 'genlock-v8-tag-')), 'tag.json')
    daemon = DaemonProcess.spawn(
      process.execPath,
      ['--import', 'tsx', '--import', recorder, cli, 'run', '--config', configFile],
      { GENLOCK_V8_TAG_OUT: out },
    )
    await daemon.ready()
    await daemon.stop()
    daemon = undefined
    const { atStart, atExit } = JSON.parse(readFileSync(out, 'utf8')) as { atStart: number; atExit: number }
    expect(atStart).toBe(tags([]).before)
    expect(atExit).toBe(tags(['--optimize-for-size']).before)
  })
})

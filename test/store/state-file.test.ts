import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { StateFile, StateFileError } from '../../src/store/index.js'

function folder(): string {
  return mkdtempSync(join(tmpdir(), 'genlock-store-'))
}

function recordingLogger() {
  const lines: { fields: Record<string, unknown>; message: string | undefined }[] = []
  return { lines, warn: (fields: object, message?: string) => lines.push({ fields: fields as never, message }) }
}

/** A state file holding `{ runs: string[] }`. */
function runsValidator(value: unknown): { runs: string[] } {
  const runs = (value as { runs?: unknown } | null)?.runs
  if (!Array.isArray(runs) || !runs.every((run) => typeof run === 'string')) throw new Error('runs must be strings')
  return { runs }
}

describe('StateFile', () => {
  it('reads undefined before the first write, then what was written', async () => {
    const file = new StateFile<{ runs: string[] }>({ path: join(folder(), 'runs.json'), validate: runsValidator })
    expect(await file.read()).toBeUndefined()
    await file.write({ runs: ['party'] })
    expect(await file.read()).toEqual({ runs: ['party'] })
    expect(JSON.parse(readFileSync(file.path, 'utf8'))).toEqual({ runs: ['party'] })
  })

  it('creates its folder (the data dir) when it is missing', async () => {
    const path = join(folder(), 'data', 'nested', 'state.json')
    const file = new StateFile<number>({ path })
    await file.write(7)
    expect(await file.read()).toBe(7)
  })

  it('leaves no temporary file behind, and a leftover from a crash mid-write does not matter', async () => {
    const dir = folder()
    const file = new StateFile<string>({ path: join(dir, 's.json') })
    await file.write('one')
    // What a crash between writing the temp file and the rename leaves: a half-written temp file.
    writeFileSync(join(dir, 's.json.tmp'), '{"half')
    expect(await file.read()).toBe('one')
    await file.write('two')
    expect(readdirSync(dir)).toEqual(['s.json'])
    expect(await file.read()).toBe('two')
  })

  it('fsyncs each write unless it is told the file is not worth it (durable: false)', async () => {
    const dir = folder()
    const probe = await open(join(dir, 'probe'), 'w')
    const handlePrototype = Object.getPrototypeOf(probe) as { sync(): Promise<void> }
    await probe.close()
    const sync = vi.spyOn(handlePrototype, 'sync')
    try {
      await new StateFile<number>({ path: join(dir, 'durable.json') }).write(1)
      const durableSyncs = sync.mock.calls.length
      expect(durableSyncs).toBeGreaterThanOrEqual(1)
      const light = new StateFile<number>({ path: join(dir, 'light.json'), durable: false })
      await light.write(2)
      expect(sync.mock.calls.length).toBe(durableSyncs)
      expect(await light.read()).toBe(2)
      expect(readdirSync(dir).sort()).toEqual(['durable.json', 'light.json', 'probe'])
    } finally {
      sync.mockRestore()
    }
  })

  it('applies concurrent writes in call order: the last one called is what stays', async () => {
    const file = new StateFile<number>({ path: join(folder(), 'n.json') })
    await Promise.all(Array.from({ length: 20 }, (_, i) => file.write(i)))
    expect(await file.read()).toBe(19)
  })

  it('moves a file that is not JSON aside, logs it, and reads as missing', async () => {
    const dir = folder()
    const logger = recordingLogger()
    const path = join(dir, 'runs.json')
    writeFileSync(path, '{"runs": [')
    const file = new StateFile({ path, validate: runsValidator, logger })
    expect(await file.read()).toBeUndefined()
    const aside = readdirSync(dir).filter((name) => name.startsWith('runs.json.corrupt-'))
    expect(aside).toHaveLength(1)
    expect(readFileSync(join(dir, aside[0]!), 'utf8')).toBe('{"runs": [')
    expect(existsSync(path)).toBe(false)
    expect(logger.lines).toHaveLength(1)
    expect(logger.lines[0]!.fields).toMatchObject({ file: path, movedTo: join(dir, aside[0]!) })
    expect(logger.lines[0]!.message).toMatch(/runs\.json is unreadable \(not JSON: .+\); moved aside/)
    // And the next write starts afresh.
    await file.write({ runs: [] })
    expect(await file.read()).toEqual({ runs: [] })
  })

  it('moves aside a file that parses but fails validation, naming why', async () => {
    const dir = folder()
    const logger = recordingLogger()
    writeFileSync(join(dir, 'runs.json'), '{"runs": [1, 2]}')
    const file = new StateFile({ path: join(dir, 'runs.json'), validate: runsValidator, logger })
    expect(await file.read()).toBeUndefined()
    expect(logger.lines[0]!.fields).toMatchObject({ why: 'runs must be strings' })
    expect(readdirSync(dir).some((name) => name.startsWith('runs.json.corrupt-'))).toBe(true)
  })

  it('is bounded: a write over maxBytes is refused and keeps the old value; a file over it reads as corrupt', async () => {
    const dir = folder()
    const logger = recordingLogger()
    const file = new StateFile<string>({ path: join(dir, 'big.json'), maxBytes: 64, logger })
    await file.write('small')
    await expect(file.write('x'.repeat(100))).rejects.toThrow(StateFileError)
    await expect(file.write('x'.repeat(100))).rejects.toThrow(/big\.json: 102 bytes is over the limit of 64/)
    expect(await file.read()).toBe('small')

    writeFileSync(join(dir, 'big.json'), JSON.stringify('y'.repeat(200)))
    expect(await file.read()).toBeUndefined()
    expect(logger.lines[0]!.fields).toMatchObject({ why: '202 bytes, over the limit of 64' })
  })

  it('remove deletes the value, and removing twice is fine', async () => {
    const file = new StateFile<number>({ path: join(folder(), 'r.json') })
    await file.write(1)
    await file.remove()
    await file.remove()
    expect(await file.read()).toBeUndefined()
  })

  it('says which file it could not write, and why', async () => {
    const dir = folder()
    writeFileSync(join(dir, 'blocker'), '')
    // A file where its folder should be: the folder cannot be created.
    const file = new StateFile<number>({ path: join(dir, 'blocker', 'state.json') })
    await expect(file.write(1)).rejects.toThrow(new RegExp(`cannot write ${join(dir, 'blocker', 'state.json')}: `))
  })
})

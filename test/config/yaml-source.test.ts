import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { MAX_YAML_FILE_BYTES, YamlSource } from '../../src/config/yaml-source.js'
import { checkSetup } from '../../src/setup/index.js'
import { PARTY, simBulb, writeSetup } from '../cli/setup-files.js'
import { problemsOf } from '../support/config-problems.js'
import { aliasBomb, invalidUtf8Device, oversizedAutomation } from './hostile-yaml.js'

const scratch = mkdtempSync(join(tmpdir(), 'genlock-yaml-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

function file(name: string, content: string | Buffer): string {
  const path = join(scratch, name)
  writeFileSync(path, content)
  return path
}

describe('YamlSource.parse: hostile files are that file’s problem, with the file named', () => {
  it('reports an alias bomb as a problem at its first alias, instead of throwing a bare ReferenceError', () => {
    const path = file('bomb.yaml', aliasBomb('id: bomb\nadapter: sim\n'))
    const lines = problemsOf(() => YamlSource.parse(path))
    expect(lines).toEqual([expect.stringMatching(/^.*bomb\.yaml:4:\d+ .*alias/)])
    expect(lines[0]).toContain(path)
  })

  it('still expands a file with a few aliases, as YAML allows', () => {
    const path = file('anchors.yaml', 'base: &base { color: red }\nsteps:\n  - set: *base\n  - set: *base\n')
    expect(YamlSource.parse(path).data).toEqual({
      base: { color: 'red' },
      steps: [{ set: { color: 'red' } }, { set: { color: 'red' } }],
    })
  })

  it('refuses a file over the size limit before parsing it, naming the file and both sizes', () => {
    // Broken YAML at its very start: a parser would report that; the size check must come first.
    const path = file('huge.yaml', `steps: [\n${oversizedAutomation(MAX_YAML_FILE_BYTES + 1)}`)
    const lines = problemsOf(() => YamlSource.parse(path))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/huge\.yaml .*is \d+ bytes.* limit is 65536 bytes/)
    expect(lines[0]).toContain(path)
  })

  it('refuses text over the size limit handed in directly, too', () => {
    const lines = problemsOf(() => YamlSource.parse('given.yaml', oversizedAutomation(MAX_YAML_FILE_BYTES + 10)))
    expect(lines).toEqual([expect.stringMatching(/^given\.yaml .*limit is 65536 bytes/)])
  })

  it('accepts a file of exactly the limit', () => {
    const path = file('at-limit.yaml', oversizedAutomation(MAX_YAML_FILE_BYTES))
    expect((YamlSource.parse(path).data as { name: string }).name).toBe('huge')
  })

  it('rejects invalid UTF-8 with the line and column of the bad byte, instead of replacing it', () => {
    const path = file('mangled.yaml', invalidUtf8Device())
    const lines = problemsOf(() => YamlSource.parse(path))
    expect(lines).toEqual([`${path}:3:9 not valid UTF-8 (byte 0xff): save the file as UTF-8`])
  })

  it('reads UTF-8 with multi-byte characters and a byte order mark as it is', () => {
    const path = file('umlaut.yaml', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('name: Bäder 🛁\n')]))
    expect(YamlSource.parse(path).data).toEqual({ name: 'Bäder 🛁' })
  })

  it('places a bad byte after multi-byte characters on the right column', () => {
    const path = file(
      'late.yaml',
      Buffer.concat([Buffer.from('name: ää'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]),
    )
    expect(problemsOf(() => YamlSource.parse(path))).toEqual([
      `${path}:1:9 not valid UTF-8 (byte 0xc3): save the file as UTF-8`,
    ])
  })
})

describe('checkSetup with hostile files among good ones', () => {
  it('lists each hostile file as a problem and loads every other file', () => {
    const { dir, configFile } = writeSetup({
      config: 'mqtt: { embedded: true }\n',
      devices: {
        'bath_bulb.yaml': simBulb('bath_bulb'),
        'bomb.yaml': aliasBomb('id: bomb\nadapter: sim\n'),
      },
      automations: {
        'party.yaml': PARTY,
        'bomb.yaml': aliasBomb('name: bomb\n'),
        'huge.yaml': oversizedAutomation(MAX_YAML_FILE_BYTES * 2),
      },
    })
    writeFileSync(join(dir, 'devices', 'mangled.yaml'), invalidUtf8Device())
    const setup = checkSetup(configFile)
    expect(setup.devices.map((device) => device.id)).toEqual(['bath_bulb'])
    expect(setup.automations.map((automation) => automation.name)).toEqual(['party'])
    expect(setup.problems.map((problem) => problem.file).sort()).toEqual(
      ['automations/bomb.yaml', 'automations/huge.yaml', 'devices/bomb.yaml', 'devices/mangled.yaml'].map((name) =>
        join(dir, name),
      ),
    )
  })
})

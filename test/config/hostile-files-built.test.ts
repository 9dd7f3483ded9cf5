/**
 * Issue 13.4, 13.5 and the UTF-8 part of 13.12, through the built package (`node dist/cli/index.js`), where they
 * were seen: an alias bomb, an oversized file and invalid UTF-8 are each one file's problem, named, in `validate`,
 * at `run` and on hot reload, and the other files load.
 */
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_YAML_FILE_BYTES } from '../../src/config/yaml-source.js'
import { PARTY, simBulb, writeSetup } from '../cli/setup-files.js'
import { Observer } from '../mqtt/observer.js'
import type { LogEntry } from '../daemon/daemon-process.js'
import { builtCli, runBuilt, startBuiltDaemon } from '../support/built-genlock.js'
import { freePort } from '../support/services.js'
import { aliasBomb, invalidUtf8Device, oversizedAutomation } from './hostile-yaml.js'

beforeAll(() => builtCli(), 180_000)

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const lamp = (name: string) =>
  `name: ${name}\ndevices: [bath_bulb]\ntrigger:\n  - mqtt: home/${name}\nsteps:\n  - set: { on: true }\n`

/** A setup with one good device and automation, plus the hostile files. */
function hostileSetup(port = 1883) {
  const setup = writeSetup({
    config: `mqtt: { embedded: true, port: ${port} }\nlog: { level: info, pretty: false }\n`,
    devices: { 'bath_bulb.yaml': simBulb('bath_bulb'), 'bomb.yaml': aliasBomb('id: bomb\nadapter: sim\n') },
    automations: {
      'party.yaml': PARTY,
      'bomb.yaml': aliasBomb('name: bomb\n'),
      'huge.yaml': oversizedAutomation(5 * 1024 * 1024),
    },
  })
  writeFileSync(join(setup.dir, 'devices', 'mangled.yaml'), invalidUtf8Device())
  dirs.push(setup.dir)
  return setup
}

const problemFor = (file: string) => (entry: LogEntry) =>
  entry.msg === 'config problem' && String(entry.problem).startsWith(file)

describe('hostile YAML files, through the built genlock', () => {
  it('validate names each hostile file once, prints no stack trace, and exits 1', async () => {
    const { dir, configFile } = hostileSetup()
    const result = await runBuilt(['validate', '--config', configFile])
    const lines = result.stderr.trim().split('\n')
    expect(result.stderr).not.toMatch(/^\s+at /m)
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${join(dir, 'devices/bomb.yaml')}:\\d+:\\d+ too many alias expansions`)),
        expect.stringMatching(new RegExp(`^${join(dir, 'automations/bomb.yaml')}:\\d+:\\d+ too many alias expansions`)),
        expect.stringMatching(
          new RegExp(`^${join(dir, 'automations/huge.yaml')} is \\d+ bytes; the limit is ${MAX_YAML_FILE_BYTES} bytes`),
        ),
        `${join(dir, 'devices/mangled.yaml')}:3:9 not valid UTF-8 (byte 0xff): save the file as UTF-8`,
      ]),
    )
    expect(lines.at(-1)).toBe('4 problems found')
    expect(result.code).toBe(1)
  }, 60_000)

  it('run starts with the good files, logging each hostile one as a config problem', async () => {
    const port = await freePort()
    const { dir, configFile } = hostileSetup(port)
    const daemon = await startBuiltDaemon(configFile)
    let observer: Observer | undefined
    try {
      const ready = await daemon.ready()
      expect(ready).toMatchObject({ devices: 1, automations: 1, problems: 4 })
      for (const file of [
        'devices/bomb.yaml',
        'devices/mangled.yaml',
        'automations/bomb.yaml',
        'automations/huge.yaml',
      ])
        await daemon.waitForLog(problemFor(join(dir, file)))
      observer = await Observer.connect(`mqtt://127.0.0.1:${port}`, ['genlock/automation/+'])
      await observer.waitForPayload('genlock/automation/party', (payload) => payload.includes('"state":"idle"'))
    } finally {
      await observer?.close()
      expect((await daemon.stop()).code).toBe(0)
    }
  }, 60_000)

  it('hot reload: a hostile file is logged and left out, and later good files still load', async () => {
    const port = await freePort()
    const { dir, configFile } = writeSetup({
      config: `mqtt: { embedded: true, port: ${port} }\nlog: { level: info, pretty: false }\n`,
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
      automations: { 'party.yaml': PARTY },
    })
    dirs.push(dir)
    const daemon = await startBuiltDaemon(configFile)
    let observer: Observer | undefined
    try {
      await daemon.ready()
      observer = await Observer.connect(`mqtt://127.0.0.1:${port}`, ['genlock/automation/+'])
      let mark = daemon.mark
      writeFileSync(join(dir, 'automations', 'bomb.yaml'), aliasBomb('name: bomb\n'))
      await daemon.waitForLog(problemFor(join(dir, 'automations/bomb.yaml')), mark)
      mark = daemon.mark
      writeFileSync(join(dir, 'automations', 'huge.yaml'), oversizedAutomation(5 * 1024 * 1024))
      await daemon.waitForLog(problemFor(join(dir, 'automations/huge.yaml')), mark)
      writeFileSync(join(dir, 'devices', 'mangled.yaml'), invalidUtf8Device())
      await daemon.waitForLog(problemFor(join(dir, 'devices/mangled.yaml')), mark)

      // Every reload since failed before the fix; a good file added now must load.
      writeFileSync(join(dir, 'automations', 'lamp.yaml'), lamp('lamp'))
      await observer.waitForPayload('genlock/automation/lamp', (payload) => payload.includes('"state":"idle"'))
      expect(daemon.logs.some((entry) => entry.msg === 'reload failed')).toBe(false)
    } finally {
      await observer?.close()
      expect((await daemon.stop()).code).toBe(0)
    }
  }, 60_000)
})

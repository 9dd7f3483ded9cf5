/**
 * Issue 13.12 (`ca:` with `mqtt://`), through the built package: a CA file for a broker URL without TLS is a
 * config problem naming the field, in `validate` and at `run`, not silently unused. This held in main already
 * (config.ts checks it); the test keeps it so.
 */
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { writeSetup } from '../cli/setup-files.js'
import { builtCli, runBuilt } from '../support/built-genlock.js'

beforeAll(() => builtCli(), 180_000)

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

it('validate and run both refuse ca: with an mqtt:// url, naming the field', async () => {
  const { dir, configFile } = writeSetup({ config: 'mqtt:\n  url: mqtt://127.0.0.1:1\n  ca: ./ca.pem\n' })
  dirs.push(dir)
  writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n')
  const problem = `${configFile}:3:7 mqtt.ca: is for TLS, but url is mqtt:// (no TLS): use an mqtts:// url, or remove it`
  for (const command of ['validate', 'run']) {
    const result = await runBuilt([command, '--config', configFile])
    expect(result.stderr).toContain(problem)
    expect(result.code).toBe(1)
  }
}, 60_000)

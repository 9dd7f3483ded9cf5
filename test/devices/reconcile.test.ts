import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Bulb } from '../../src/devices/bulb.js'
import { readDeviceDirectory } from '../../src/devices/device-files.js'
import { DeviceReconciler } from '../../src/devices/reconcile.js'
import { createSimulatedBulb } from '../../src/devices/bulb-factory.js'

function recordingLogger() {
  const lines: string[] = []
  const log = (fields: object, message?: string) => lines.push(`${message ?? ''} ${JSON.stringify(fields)}`)
  return { lines, debug: log, info: log, warn: log, error: log }
}

describe('DeviceReconciler', () => {
  it('adds, keeps, replaces and removes bulbs as the folder changes, and keeps the last good on a broken file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'genlock-reconcile-'))
    const followed: string[] = []
    const reconciler = new DeviceReconciler({
      create: (config) => createSimulatedBulb(config),
      follow: (id) => {
        followed.push(`+${id}`)
        return () => followed.push(`-${id}`)
      },
    })
    const apply = () => reconciler.apply(readDeviceDirectory(dir))

    writeFileSync(join(dir, 'bath.yaml'), 'id: bath\nadapter: sim\n')
    writeFileSync(join(dir, 'hall.yaml'), 'id: hall\nadapter: sim\n')
    expect(await apply()).toEqual({ added: ['bath', 'hall'], removed: [] })
    const bath = reconciler.devices.get('bath')
    const hall = reconciler.devices.get('hall')

    // Unchanged files: the same bulbs, nothing restarted.
    expect(await apply()).toEqual({ added: [], removed: [] })
    expect(reconciler.devices.get('bath')).toBe(bath)

    // A changed file: a new bulb in its place. A broken file: the bulb carries on as it was.
    writeFileSync(join(dir, 'bath.yaml'), 'id: bath\nname: Bath\nadapter: sim\n')
    writeFileSync(join(dir, 'hall.yaml'), 'id: hall\nadapter: sim\nlatencyMs: soon\n')
    expect(await apply()).toEqual({ added: ['bath'], removed: ['bath'] })
    expect(reconciler.devices.get('bath')).not.toBe(bath)
    expect(reconciler.devices.get('bath')?.name).toBe('Bath')
    expect(reconciler.devices.get('hall')).toBe(hall)

    // A removed file: the bulb goes.
    rmSync(join(dir, 'hall.yaml'))
    expect(await apply()).toEqual({ added: [], removed: ['hall'] })
    expect([...reconciler.devices.keys()]).toEqual(['bath'])
    expect(followed).toEqual(['+bath', '+hall', '-bath', '+bath', '-hall'])

    await reconciler.stopAll()
    expect(reconciler.devices.size).toBe(0)
    expect(followed.at(-1)).toBe('-bath')
  })

  it('leaves out a device that cannot be built, and keeps one that does not start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'genlock-reconcile-'))
    writeFileSync(join(dir, 'a.yaml'), 'id: a\nadapter: sim\n')
    writeFileSync(join(dir, 'b.yaml'), 'id: b\nadapter: sim\n')
    const logger = recordingLogger()
    const reconciler = new DeviceReconciler({
      create: (config): Bulb => {
        if (config.id === 'a') throw new Error('no such adapter here')
        const bulb = createSimulatedBulb(config)
        return Object.assign(bulb, { start: () => Promise.reject(new Error('no answer')) })
      },
      logger,
    })
    expect(await reconciler.apply(readDeviceDirectory(dir))).toEqual({ added: ['b'], removed: [] })
    expect([...reconciler.devices.keys()]).toEqual(['b'])
    expect(logger.lines).toEqual([
      'device cannot be created; left out {"device":"a","err":"no such adapter here"}',
      'device did not start; its steps fail until it answers {"device":"b","err":"no answer"}',
    ])
  })
})

/**
 * The daemon loads an adapter's code when a device file first names it (adapter-loader.ts). A broken adapter
 * module must cost only its own devices, with an error that names the adapter; the others run.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { readDeviceDirectory } from '../../src/devices/device-files.js'

function recordingLogger() {
  const lines: string[] = []
  const log = (fields: object, message?: string) => lines.push(`${message ?? ''} ${JSON.stringify(fields)}`)
  return { lines, debug: log, info: log, warn: log, error: log }
}

afterEach(() => {
  vi.doUnmock('../../src/devices/hue/create.js')
  vi.resetModules()
})

describe('loadBulb', () => {
  it('builds the bulb a device file names, loading its adapter then', async () => {
    const { loadBulb } = await import('../../src/devices/adapter-loader.js')
    const dir = mkdtempSync(join(tmpdir(), 'genlock-adapters-'))
    writeFileSync(join(dir, 'a.yaml'), 'id: a\nadapter: sim\n')
    writeFileSync(join(dir, 'b.yaml'), 'id: b\nadapter: hue\nhost: 10.0.0.2\nusername: key\nlight: 3\n')
    const [a, b] = readDeviceDirectory(dir).devices.map((device) => device.config)
    await expect(loadBulb(a!)).resolves.toMatchObject({ adapter: 'sim', id: 'a' })
    await expect(loadBulb(b!)).resolves.toMatchObject({ adapter: 'hue', description: 'b (hue 10.0.0.2 light 3)' })
  })

  it('leaves out the devices of an adapter whose code cannot be loaded, names it, and runs the others', async () => {
    vi.doMock('../../src/devices/hue/create.js', () => {
      throw new Error('Cannot find package node-hue-api')
    })
    const { loadBulb, AdapterLoadError } = await import('../../src/devices/adapter-loader.js')
    const { DeviceReconciler } = await import('../../src/devices/reconcile.js')
    const dir = mkdtempSync(join(tmpdir(), 'genlock-adapters-'))
    writeFileSync(join(dir, 'a.yaml'), 'id: a\nadapter: sim\n')
    writeFileSync(join(dir, 'b.yaml'), 'id: b\nadapter: hue\nhost: 10.0.0.2\nusername: key\nlight: 3\n')
    writeFileSync(join(dir, 'c.yaml'), 'id: c\nadapter: hue\nhost: 10.0.0.2\nusername: key\nlight: 4\n')
    const directory = readDeviceDirectory(dir)
    const hue = directory.devices.find((device) => device.config.id === 'b')!.config
    await expect(loadBulb(hue)).rejects.toBeInstanceOf(AdapterLoadError)
    await expect(loadBulb(hue)).rejects.toThrow(/^the 'hue' adapter cannot be loaded: .*reinstall genlock/)

    const logger = recordingLogger()
    const reconciler = new DeviceReconciler({ create: (config) => loadBulb(config), logger })
    expect(await reconciler.apply(directory)).toEqual({ added: ['a'], removed: [] })
    expect(logger.lines.filter((line) => line.includes('cannot be created'))).toEqual([
      expect.stringMatching(/"device":"b".*the 'hue' adapter cannot be loaded/),
      expect.stringMatching(/"device":"c".*the 'hue' adapter cannot be loaded/),
    ])
    await reconciler.stopAll()
  })
})

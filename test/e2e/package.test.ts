import { accessSync, constants, existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { installedPackage, REPO, type InstalledPackage } from './support/installed-package.js'
import { importAsThePackageDoes, lazyImports } from './support/lazy-imports.js'
import { runGenlock } from './support/user-cli.js'

interface Manifest {
  readonly version: string
  readonly bin: Record<string, string>
  readonly dependencies?: Record<string, string>
  readonly optionalDependencies?: Record<string, string>
  readonly devDependencies?: Record<string, string>
  readonly engines?: Record<string, string>
}

const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Manifest

// The install is the slow part (a clean build, npm pack, npm install): once per change of the sources, shared by
// every e2e file through a cache folder (see installedPackage).
const installed: InstalledPackage = await installedPackage()

describe('the package as npm installs it (npm pack, then production dependencies only)', () => {
  it('ships the compiled code and no sources or tests', () => {
    const top = readdirSync(installed.packageDir).sort()
    expect(top).toContain('dist')
    expect(top).not.toContain('src')
    expect(top).not.toContain('test')
    expect(existsSync(join(installed.packageDir, 'dist/index.js'))).toBe(true)
  })

  it('links an executable `genlock` that runs under plain node', async () => {
    expect(realpathSync(installed.bin)).toBe(join(realpathSync(installed.packageDir), manifest.bin.genlock!))
    accessSync(installed.bin, constants.X_OK)
    const version = await runGenlock(installed, ['--version'], { cwd: installed.prefix })
    expect(version).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: '' })
  })

  it('has the production and optional dependencies and none of the development ones', () => {
    const modules = join(installed.prefix, 'node_modules')
    // npm installs optional dependencies too unless told --omit=optional; genlock runs without them.
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies }))
      expect(existsSync(join(modules, name, 'package.json')), `${name} (dependency)`).toBe(true)
    // Development-only: what the lock file marks `dev` (a devDependency that a dependency also needs, such as
    // @types/node, is not).
    const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>
    }
    const devOnly = Object.keys(manifest.devDependencies ?? {}).filter(
      (name) => lock.packages[`node_modules/${name}`]?.dev === true,
    )
    expect(devOnly).toContain('vitest')
    for (const name of devOnly) expect(existsSync(join(modules, name)), `${name} (devDependency)`).toBe(false)
  })

  it('sits where Node finds no other node_modules above it (so no devDependency can stand in)', () => {
    const above: string[] = []
    for (let dir = dirname(installed.prefix); ; dir = dirname(dir)) {
      if (existsSync(join(dir, 'node_modules'))) above.push(join(dir, 'node_modules'))
      if (dirname(dir) === dir) break
    }
    expect(above).toEqual([])
  })

  it("declares a Node range the image's Node is in", () => {
    const image = /^ARG NODE_IMAGE=node:(\d+)-/m.exec(readFileSync(join(REPO, 'Dockerfile'), 'utf8'))?.[1]
    const minimum = /^>=\s*(\d+)$/.exec(manifest.engines?.node ?? '')?.[1]
    expect(image, 'the Dockerfile names node:<major>-…').toBeDefined()
    expect(minimum, 'engines.node is >=<major>').toBeDefined()
    expect(Number(image)).toBeGreaterThanOrEqual(Number(minimum))
  })
})

describe('every module the package loads on demand loads under plain node, from the install', () => {
  const imports = lazyImports(installed.packageDir)

  // jexl, mqtt, zod and the rest load with ../daemon/index.js (the run and simulate commands import it on demand).
  it('finds the modules loaded on demand (aedes, ioredis, node-hue-api, tplink-smarthome-api, the simulators, …)', () => {
    const specifiers = new Set(imports.map((lazy) => lazy.specifier))
    for (const specifier of [
      'aedes',
      'ioredis',
      'node-hue-api',
      './lib/api/Api.js',
      'tplink-smarthome-api',
      'tplink-smarthome-simulator',
      '../daemon/index.js',
      '../setup/index.js',
      '../simulators/kasa.js',
      '../simulators/hue-bridge.js',
      '../simulators/zigbee2mqtt-lights.js',
    ])
      expect(specifiers, specifier).toContain(specifier)
  })

  it.each(
    imports.map((lazy) => [`${lazy.file}: ${lazy.loader}('${lazy.specifier}') → ${lazy.names.join(', ')}`, lazy]),
  )('%s', async (_title, lazy) => {
    const outcome = await importAsThePackageDoes(installed.packageDir, lazy)
    expect(outcome).toEqual({ missing: [] })
  })
})

/**
 * The dependency rules of src, layer by layer (README, "How it fits together"): what each layer may import inside
 * src, and which layers alone may load certain packages. A new folder in src fails here until it has a row.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

/** Layer → the layers it may import (besides itself). Lower layers first. */
const LAYERS: Readonly<Record<string, readonly string[]>> = {
  'src/bus': [],
  'src/lock': [],
  'src/store': [],
  'src/net': [],
  'src/config': [],
  'src/http': [],
  'src/mqtt': ['src/bus'],
  'src/devices': ['src/bus', 'src/config', 'src/lock'],
  'src/simulators': ['src/bus', 'src/net', 'src/mqtt', 'src/devices'],
  'src/automation': ['src/bus', 'src/config', 'src/devices', 'src/lock'],
  'src/homeassistant': ['src/bus', 'src/automation', 'src/devices', 'src/lock'],
  'src/setup': ['src/config', 'src/devices', 'src/automation'],
  'src/health.ts': ['src/config', 'src/mqtt', 'src/bus'],
  'src/daemon': [
    'src/bus',
    'src/lock',
    'src/store',
    'src/config',
    'src/mqtt',
    'src/devices',
    'src/automation',
    'src/homeassistant',
    'src/setup',
    'src/http',
  ],
  'src/cli': [
    'src/bus',
    'src/lock',
    'src/store',
    'src/net',
    'src/config',
    'src/mqtt',
    'src/devices',
    'src/simulators',
    'src/automation',
    'src/homeassistant',
    'src/setup',
    'src/health.ts',
    'src/daemon',
  ],
  // The package root is the gen-lock core, publishable alone.
  'src/index.ts': ['src/lock'],
}

/** Packages only some layers may load: the MQTT client and broker, Redis, the bulbs' own libraries, the CLI's. */
const PACKAGES: Readonly<Record<string, readonly string[]>> = {
  mqtt: ['src/mqtt'],
  'mqtt-packet': ['src/mqtt'],
  aedes: ['src/mqtt'],
  ioredis: ['src/lock', 'src/health.ts'],
  'node-hue-api': ['src/devices', 'src/cli'],
  'tplink-smarthome-api': ['src/devices', 'src/cli'],
  'tplink-smarthome-simulator': ['src/simulators'],
  commander: ['src/cli'],
  jexl: ['src/automation'],
  'prom-client': ['src/daemon'],
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  )
}

/** Every module a file imports (static, dynamic and type-only), comments left out (doc examples import too). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '')
  return [...text.matchAll(/\bfrom\s+'([^']+)'|\bimport\s*\(?\s*'([^']+)'/g)].map((match) => match[1] ?? match[2]!)
}

function layerOf(path: string): string | undefined {
  return Object.keys(LAYERS).find((layer) => path === layer || path.startsWith(`${layer}/`))
}

const files = sources('src').map((file) => relative(process.cwd(), file))

describe('architecture', () => {
  it('every file in src belongs to a layer with written rules', () => {
    expect(files.filter((file) => layerOf(file) === undefined)).toEqual([])
    for (const layer of Object.keys(LAYERS))
      expect(
        files.some((file) => layerOf(file) === layer),
        layer,
      ).toBe(true)
  })

  it('the rules point one way: no layer may reach, even indirectly, one that may reach it', () => {
    const reaches = (from: string, seen = new Set<string>()): Set<string> => {
      for (const next of LAYERS[from] ?? []) if (!seen.has(next)) reaches(next, seen.add(next))
      return seen
    }
    const cycles = Object.keys(LAYERS).filter((layer) => reaches(layer).has(layer))
    expect(cycles).toEqual([])
  })

  it('each layer imports only itself and the layers below it', () => {
    const offenders = files.flatMap((file) => {
      const layer = layerOf(file)!
      return imports(file).flatMap((specifier) => {
        if (!specifier.startsWith('.')) return []
        const target = relative(process.cwd(), resolve(dirname(file), specifier)).replace(/\.js$/, '.ts')
        const targetLayer = layerOf(target)
        if (targetLayer === layer || (targetLayer && LAYERS[layer]!.includes(targetLayer))) return []
        return [`${file} imports ${target} (${targetLayer ?? 'outside src'})`]
      })
    })
    expect(offenders).toEqual([])
  })

  it('the MQTT client and broker, Redis and the bulbs’ own libraries are loaded only where they belong', () => {
    const offenders = files.flatMap((file) =>
      imports(file).flatMap((specifier) => {
        const name = specifier.startsWith('.') ? undefined : specifier.split('/')[0]!
        const allowed = name === undefined ? undefined : PACKAGES[name]
        if (!allowed || allowed.some((layer) => file === layer || file.startsWith(`${layer}/`))) return []
        return [`${file} imports ${specifier}`]
      }),
    )
    expect(offenders).toEqual([])
  })
})

import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  )
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/\bfrom\s+'([^']+)'|\bimport\s*\(?\s*'([^']+)'/g)].map((match) => match[1] ?? match[2]!)
}

/** Where src/devices may reach inside src: itself, the bus types, config (YAML sources and ConfigError) and lock types. */
const ALLOWED = ['src/devices/', 'src/bus/', 'src/config/', 'src/lock/']

describe('src/devices dependencies', () => {
  it('imports no MQTT library and nothing in src above it (automation, daemon, cli, homeassistant, src/mqtt)', () => {
    const files = sources('src/devices')
    const offenders = files.flatMap((file) =>
      imports(file).flatMap((specifier) => {
        if (specifier.startsWith('.')) {
          const target = relative(process.cwd(), resolve(dirname(file), specifier))
          return ALLOWED.some((prefix) => target.startsWith(prefix)) ? [] : [`${file} imports ${target}`]
        }
        return /^(mqtt|aedes)(\/|$)/.test(specifier) ? [`${file} imports ${specifier}`] : []
      }),
    )
    expect(offenders).toEqual([])
    expect(files).toContain('src/devices/bulb-factory.ts')
  })
})

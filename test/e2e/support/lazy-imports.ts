import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { userEnv } from './user-cli.js'

/** One `await import('<specifier>')` in a compiled file, and the names the file takes from what it gets. */
export interface LazyImport {
  /** The compiled file, relative to the package folder (e.g. `dist/devices/kasa/kasa-bulb.js`). */
  readonly file: string
  readonly specifier: string
  readonly names: readonly string[]
}

function javascriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return javascriptFiles(path)
    return entry.name.endsWith('.js') ? [path] : []
  })
}

/**
 * Every dynamic import in the package's compiled code, with the names taken from it: `const { A, B: b } = await
 * import('x')` takes A and B; `ns = await import('x')` takes every `ns.<name>` the file uses.
 */
export function lazyImports(packageDir: string): LazyImport[] {
  const found: LazyImport[] = []
  for (const path of javascriptFiles(join(packageDir, 'dist'))) {
    const code = readFileSync(path, 'utf8')
    const file = relative(packageDir, path)
    for (const match of code.matchAll(/const\s*\{([^}]*)\}\s*=\s*await import\((['"])([^'"]+)\2\)/g)) {
      const names = match[1]!
        .split(',')
        .map((part) => part.split(':')[0]!.trim())
        .filter(Boolean)
      found.push({ file, specifier: match[3]!, names })
    }
    for (const match of code.matchAll(/(?<![\w.])(\w+)\s*=\s*await import\((['"])([^'"]+)\2\)/g)) {
      const variable = match[1]!
      const names = new Set([...code.matchAll(new RegExp(`\\b${variable}\\.(\\w+)`, 'g'))].map((use) => use[1]!))
      found.push({ file, specifier: match[3]!, names: [...names] })
    }
  }
  return found
}

/** What importing a module gave: the names that were missing from it, or why it failed to load. */
export interface ImportOutcome {
  readonly missing: readonly string[]
  readonly error?: string
}

const PROBE = `
const { specifier, names } = JSON.parse(process.env.GENLOCK_PROBE)
try {
  const namespace = await import(specifier)
  console.log(JSON.stringify({ missing: names.filter((name) => namespace[name] === undefined) }))
} catch (error) {
  console.log(JSON.stringify({ missing: names, error: error.message }))
}
`

/**
 * Imports `lazy.specifier` the way the package's file does, under plain node (no loader): an ES module evaluated in
 * the file's own folder resolves relative and bare specifiers from exactly where the file would.
 */
export function importAsThePackageDoes(packageDir: string, lazy: LazyImport): Promise<ImportOutcome> {
  const probe = JSON.stringify({ specifier: lazy.specifier, names: lazy.names })
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', PROBE],
      { cwd: dirname(join(packageDir, lazy.file)), env: userEnv({ GENLOCK_PROBE: probe }) },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`the import probe failed: ${error.message}\n${stderr}`))
        else resolve(JSON.parse(stdout) as ImportOutcome)
      },
    )
  })
}

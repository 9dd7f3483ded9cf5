import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { userEnv } from './user-cli.js'

/**
 * One module a compiled file loads on demand — `await import('<specifier>')`, or `require('<specifier>')` through
 * `createRequire` (how genlock loads CommonJS packages, whose named exports Node's ESM loader does not always see) —
 * and the names the file takes from what it gets.
 */
export interface LazyImport {
  /** The compiled file, relative to the package folder (e.g. `dist/devices/kasa/kasa-bulb.js`). */
  readonly file: string
  readonly specifier: string
  readonly names: readonly string[]
  /** `require`: loaded with a require made by createRequire; `from` is the package whose folder it resolves in. */
  readonly loader: 'import' | 'require'
  readonly from?: string
}

/**
 * The names genlock takes from the CommonJS packages it requires (a required module is used through a variable
 * whose name the compiled code does not tie to the call, so they are listed here).
 */
const REQUIRED_NAMES: Readonly<Record<string, readonly string[]>> = {
  'tplink-smarthome-api': ['Client'],
  'tplink-smarthome-simulator': ['Device'],
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
      found.push({ file, specifier: match[3]!, names, loader: 'import' })
    }
    for (const match of code.matchAll(/(?<![\w.])(\w+)\s*=\s*\(?\s*await import\((['"])([^'"]+)\2\)/g)) {
      const variable = match[1]!
      const names = new Set([...code.matchAll(new RegExp(`\\b${variable}\\.(\\w+)`, 'g'))].map((use) => use[1]!))
      // `default` is how a namespace is unwrapped when present, never a name the file needs.
      names.delete('default')
      found.push({ file, specifier: match[3]!, names: [...names], loader: 'import' })
    }
    for (const match of code.matchAll(/createRequire\(import\.meta\.url\)\((['"])([^'"]+)\1\)/g)) {
      found.push({ file, specifier: match[2]!, names: REQUIRED_NAMES[match[2]!] ?? [], loader: 'require' })
    }
    // A require rooted in another package's folder: `const r = createRequire(here.resolve('pkg'))`, then `r('./x')`.
    for (const root of code.matchAll(/const (\w+) = createRequire\(\w+\.resolve\((['"])([^'"]+)\2\)\)/g)) {
      for (const use of code.matchAll(new RegExp(`\\b${root[1]!}\\((['"])([^'"]+)\\1\\)`, 'g'))) {
        found.push({ file, specifier: use[2]!, names: [], loader: 'require', from: root[3]! })
      }
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
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
const { specifier, names, loader, from } = JSON.parse(process.env.GENLOCK_PROBE)
const here = pathToFileURL(process.cwd() + '/probe.js')
try {
  let namespace
  if (loader === 'import') namespace = await import(specifier)
  else {
    const base = createRequire(here)
    namespace = (from ? createRequire(base.resolve(from)) : base)(specifier)
  }
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
  const probe = JSON.stringify(lazy)
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

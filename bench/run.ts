/**
 * Runs the benchmarks one after another, each in its own process: `npm run bench` for all of them,
 * `npm run bench -- lock devices` for some. Results are printed; copy them into bench/RESULTS.md.
 *
 * Each benchmark is first bundled with esbuild and run by plain node, as compiled code runs in production.
 * Running the TypeScript through tsx instead slowed the lock core 2.5x: its transform keeps function
 * names by wrapping every closure created at run time, which is most of a transaction's work.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const outdir = join(here, '..', '.bench-build')
const helpers = new Set(['run.ts', 'stats.ts'])
const available = readdirSync(here)
  .filter((file) => file.endsWith('.ts') && !helpers.has(file))
  .map((file) => file.slice(0, -3))
const requested = process.argv.slice(2)
const unknown = requested.filter((name) => !available.includes(name))
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}`)
  process.exit(2)
}

mkdirSync(outdir, { recursive: true })
let failed = false
for (const name of requested.length > 0 ? requested : available) {
  const outfile = join(outdir, `${name}.mjs`)
  await build({
    entryPoints: [join(here, `${name}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  })
  console.log(`\n=== ${name} ===`)
  const result = spawnSync(process.execPath, [outfile], { stdio: 'inherit', cwd: join(here, '..') })
  if (result.status !== 0) failed = true
}
process.exit(failed ? 1 : 0)

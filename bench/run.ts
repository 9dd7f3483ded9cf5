/**
 * Runs the benchmarks one after another, each in its own process: `npm run bench` for all of them,
 * `npm run bench -- lock devices` for some. Results are printed; copy them into bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
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

let failed = false
for (const name of requested.length > 0 ? requested : available) {
  const file = join(here, `${name}.ts`)
  if (!existsSync(file)) continue
  console.log(`\n=== ${name} ===`)
  const result = spawnSync(process.execPath, [...process.execArgv, file], { stdio: 'inherit' })
  if (result.status !== 0) failed = true
}
process.exit(failed ? 1 : 0)

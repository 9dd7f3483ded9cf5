/** The editor schemas ship in the npm package, where README's "Editor support" tells users to copy them from. */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'
import { SCHEMA_NAMES } from '../../scripts/json-schemas.js'

it('npm pack puts schemas/<name>.schema.json in the package', async () => {
  // --ignore-scripts: the file list is all this needs, not prepack's build.
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: join(import.meta.dirname, '../..'),
    maxBuffer: 16 * 1024 * 1024,
  })
  const [{ files }] = JSON.parse(stdout) as [{ files: { path: string }[] }]
  const paths = files.map((file) => file.path)
  for (const name of SCHEMA_NAMES) expect(paths).toContain(`schemas/${name}.schema.json`)
})

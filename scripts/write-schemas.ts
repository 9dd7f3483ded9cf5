/**
 * `npm run schemas`: writes schemas/<name>.schema.json from the zod schemas (scripts/json-schemas.ts). Run it after
 * changing a config, device or automation schema; test/schemas/json-schemas.test.ts fails until you do.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ADDON_SCHEMA_NAMES, buildSchemas, schemaText, SCHEMA_NAMES } from './json-schemas.js'

const root = join(import.meta.dirname, '..')
// The Home Assistant add-on is built from its own folder, so it carries a copy to seed /config/schemas with: the
// device and automation schemas only (it writes config.yaml itself, and a config.* file in an add-on repository
// is one more add-on to the Supervisor).
const targets = [
  { dir: join(root, 'schemas'), names: SCHEMA_NAMES },
  { dir: join(root, 'deploy', 'homeassistant', 'genlock', 'seed', 'schemas'), names: ADDON_SCHEMA_NAMES },
]
const schemas = buildSchemas()
for (const { dir, names } of targets) {
  mkdirSync(dir, { recursive: true })
  for (const name of names) {
    const file = join(dir, `${name}.schema.json`)
    writeFileSync(file, schemaText(schemas[name]))
    console.log(`wrote ${file}`)
  }
}

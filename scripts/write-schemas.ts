/**
 * `npm run schemas`: writes schemas/<name>.schema.json from the zod schemas (scripts/json-schemas.ts). Run it after
 * changing a config, device or automation schema; test/schemas/json-schemas.test.ts fails until you do.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildSchemas, schemaText, SCHEMA_NAMES } from './json-schemas.js'

const dir = join(import.meta.dirname, '..', 'schemas')
mkdirSync(dir, { recursive: true })
const schemas = buildSchemas()
for (const name of SCHEMA_NAMES) {
  const file = join(dir, `${name}.schema.json`)
  writeFileSync(file, schemaText(schemas[name]))
  console.log(`wrote ${file}`)
}

import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The node flags the image runs genlock with, read from the Dockerfile's `ENTRYPOINT ["node", <flags>...,
 * "/app/dist/cli/index.js"]` (deploy/genlock.service runs the same), so a benchmark measures what ships.
 */
export function shippedNodeFlags(repo: string): string[] {
  const entrypoint = /^ENTRYPOINT (.+)$/m.exec(readFileSync(join(repo, 'Dockerfile'), 'utf8'))?.[1] ?? '[]'
  return (JSON.parse(entrypoint) as string[]).filter((word) => word.startsWith('--'))
}

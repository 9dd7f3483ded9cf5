import { constants, copyFileSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Copies each folder of `seedDir` (devices/, automations/) into `configDir` when `configDir` has no folder of
 * that name yet: the first start gets working examples, and a folder that exists is the user's, even empty (so
 * deleted examples stay deleted). Never overwrites: the folder is created without `recursive` and files are
 * copied with COPYFILE_EXCL, so a folder or file that appears meanwhile makes the copy fail instead of
 * replacing it. Returns the folders it created.
 *
 * @example
 * seedFolders('/opt/genlock/seed', '/config') // ['devices', 'automations'] on the first start, [] after
 */
export function seedFolders(seedDir: string, configDir: string): string[] {
  const seeded: string[] = []
  for (const entry of readdirSync(seedDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue
    if (!createFolder(join(configDir, entry.name))) continue
    copyInto(join(seedDir, entry.name), join(configDir, entry.name))
    seeded.push(entry.name)
  }
  return seeded.sort()
}

/** Creates `dir`; false when it already exists. */
function createFolder(dir: string): boolean {
  try {
    mkdirSync(dir)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
}

function copyInto(from: string, to: string): void {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name)
    const target = join(to, entry.name)
    if (entry.isDirectory()) {
      mkdirSync(target)
      copyInto(source, target)
    } else if (entry.isFile()) {
      copyFileSync(source, target, constants.COPYFILE_EXCL)
    }
  }
}

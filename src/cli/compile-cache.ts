import { enableCompileCache, flushCompileCache } from 'node:module'
import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * Lets V8 keep the code it compiles for our modules and our dependencies' on disk and read it back at the next start
 * instead of compiling again. The folder is NODE_COMPILE_CACHE (the systemd unit sets one in its cache directory), or
 * `genlock/compile` in the user's own cache folder (XDG_CACHE_HOME, or ~/.cache) — never Node's default in the
 * shared os.tmpdir(), where another user could have put code there for us to run. NODE_DISABLE_COMPILE_CACHE=1
 * turns it off. Call it before the modules it should cover are loaded. A folder that cannot be written (a read-only
 * file system, no home) only means no cache: never a reason not to start.
 */
export function useCompileCache(): void {
  try {
    enableCompileCache(process.env.NODE_COMPILE_CACHE || defaultFolder())
  } catch {
    // a start without the cache is only slower
  }
}

function defaultFolder(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'genlock', 'compile')
}

/**
 * Writes what was compiled so far to the cache now. Node writes it at exit, but a daemon runs for weeks and may end
 * by SIGKILL (or power loss on a Pi): without this its next start would find nothing.
 */
export function saveCompileCache(): void {
  try {
    flushCompileCache()
  } catch {
    // as above: without the cache the next start is only slower
  }
}

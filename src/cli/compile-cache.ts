import * as nodeModule from 'node:module'

/** node:module's compile cache calls (Node 22.1+; this package's @types/node predates them). */
const compileCache = nodeModule as {
  enableCompileCache?: () => { status: number; message?: string; directory?: string }
  flushCompileCache?: () => void
}

/**
 * Lets V8 keep the code it compiles for our modules and our dependencies' on disk (in os.tmpdir()/node-compile-cache,
 * or NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off) and read it back at the next start instead of
 * compiling again. Call it before the modules it should cover are loaded. A folder that cannot be written (a
 * read-only file system, another user's folder) only means no cache: never a reason not to start.
 */
export function useCompileCache(): void {
  try {
    compileCache.enableCompileCache?.()
  } catch {
    // a start without the cache is only slower
  }
}

/**
 * Writes what was compiled so far to the cache now. Node writes it at exit, but a daemon runs for weeks and may end
 * by SIGKILL (or power loss on a Pi): without this its next start would find nothing.
 */
export function saveCompileCache(): void {
  try {
    compileCache.flushCompileCache?.()
  } catch {
    // as above: without the cache the next start is only slower
  }
}

// Preloaded with `node --import`: records every module the process loads (file: and node: URLs) and writes the
// list, one a line, to $GENLOCK_MODULES_OUT when the process exits. Used by test/daemon/lazy-loading.test.ts and
// test/e2e/lean-daemon.test.ts.
import { writeFileSync } from 'node:fs'
import { registerHooks } from 'node:module'

const loaded: string[] = []
registerHooks({
  load(url, context, next) {
    loaded.push(url)
    return next(url, context)
  },
})
process.on('exit', () => writeFileSync(process.env.GENLOCK_MODULES_OUT!, loaded.join('\n')))

// Preloaded with `node --import`: records every module the process loads (file: and node: URLs) and writes the
// list, one a line, to $GENLOCK_MODULES_OUT when the process exits. Used by test/daemon/lazy-loading.test.ts.
import { writeFileSync } from 'node:fs'
import * as nodeModule from 'node:module'

type Load = (url: string, context: object, next: (url: string, context: object) => unknown) => unknown
// module.registerHooks (Node >= 22.15) is newer than the @types/node this project builds with.
const { registerHooks } = nodeModule as unknown as { registerHooks: (hooks: { load: Load }) => void }

const loaded: string[] = []
registerHooks({
  load(url, context, next) {
    loaded.push(url)
    return next(url, context)
  },
})
process.on('exit', () => writeFileSync(process.env.GENLOCK_MODULES_OUT!, loaded.join('\n')))

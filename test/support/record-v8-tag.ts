// Preloaded with `node --import`: writes V8's flag-derived cached-data tag, as the process started and as it
// exits, to $GENLOCK_V8_TAG_OUT. Used by test/cli/favour-memory.test.ts and test/e2e/lean-daemon.test.ts.
import { writeFileSync } from 'node:fs'
import { cachedDataVersionTag } from 'node:v8'

const atStart = cachedDataVersionTag()
process.on('exit', () =>
  writeFileSync(process.env.GENLOCK_V8_TAG_OUT!, JSON.stringify({ atStart, atExit: cachedDataVersionTag() })),
)

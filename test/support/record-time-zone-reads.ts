// Preloaded with `node --import`: counts the Intl.DateTimeFormat instances the process makes (genlock's only way to
// read time zone data) and writes the count to $GENLOCK_TIME_ZONE_READS_OUT when the process exits. Used by
// test/daemon/lazy-loading.test.ts and test/e2e/lean-daemon.test.ts.
import { writeFileSync } from 'node:fs'

let made = 0
Intl.DateTimeFormat = new Proxy(Intl.DateTimeFormat, {
  construct(target, args: Parameters<typeof Intl.DateTimeFormat>) {
    made++
    return new target(...args)
  },
  apply(target, self, args: Parameters<typeof Intl.DateTimeFormat>) {
    made++
    return target(...args)
  },
})
process.on('exit', () => writeFileSync(process.env.GENLOCK_TIME_ZONE_READS_OUT!, String(made)))

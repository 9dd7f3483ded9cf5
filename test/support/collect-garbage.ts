import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

// `gc` is only handed to contexts made after the flag is set, so the test worker needs no `--expose-gc`.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/**
 * A full garbage collection, once the current job is over: a WeakRef's target is kept alive until the end of the job
 * that made or read it, so a test can assert that `ref.deref()` is undefined afterwards.
 */
export async function collectGarbage(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve))
  gc()
}

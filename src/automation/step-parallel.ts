import { INTERRUPTED, type StepCode, type StepRuntime } from './step-runtime.js'

interface Branch {
  readonly generator: Generator<unknown, void, unknown>
  done: boolean
  /** What to send the generator next: the settled result of its last yield. */
  input: { ok: boolean; value: unknown }
}

/**
 * The `parallel` step: runs each branch's steps concurrently under the one lock the automation holds. The
 * whole block is one yield of the transaction; inside, a small runner steps each branch's generator. When the
 * lock is lost the runner stops at the branches' next steps and the block yields again once the lock is back,
 * so `resume` continues every branch where it was.
 */
export function parallelStep(branches: readonly StepCode[]): StepCode {
  return function* parallelStep(runtime) {
    runtime.markRunning()
    yield* runBranches(branches, runtime)
  }
}

function* runBranches(compiled: readonly StepCode[], runtime: StepRuntime): Generator<unknown, void, unknown> {
  const branches: Branch[] = compiled.map((steps) => ({
    generator: steps(runtime.fork()),
    done: false,
    input: { ok: true, value: undefined },
  }))
  try {
    for (;;) {
      const finished = (yield drive(branches, runtime.ctx.signal)) as boolean
      if (finished) return
    }
  } finally {
    for (const branch of branches) if (!branch.done) branch.generator.return(undefined)
  }
}

async function drive(branches: readonly Branch[], signal: AbortSignal): Promise<boolean> {
  await Promise.all(branches.map((branch) => driveOne(branch, signal)))
  return branches.every((branch) => branch.done)
}

async function driveOne(branch: Branch, signal: AbortSignal): Promise<void> {
  while (!branch.done && !signal.aborted) {
    const { ok, value } = branch.input
    branch.input = { ok: true, value: undefined }
    const step = ok ? branch.generator.next(value) : branch.generator.throw(value)
    if (step.done) {
      branch.done = true
      return
    }
    if (step.value === INTERRUPTED) return
    try {
      branch.input = { ok: true, value: await step.value }
    } catch (error) {
      branch.input = { ok: false, value: error }
    }
  }
}

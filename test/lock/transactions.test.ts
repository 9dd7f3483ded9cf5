import { describe, expect, expectTypeOf, it } from 'vitest'
import genLock, { alwaysRestart, alwaysResume, call, LockError, type CommitPromise } from '../../src/index.js'
import { deferred } from './helpers.js'

const never = () => new Promise<never>(() => {})

describe('transactions', () => {
  it('sends a yielded promise value back, and a plain value straight back', async () => {
    const { newLocker } = genLock()
    const seen: unknown[] = []
    const result = await newLocker('r', null).promise(function* () {
      seen.push(yield Promise.resolve('from promise'))
      seen.push(yield 42)
      seen.push(yield new Promise((resolve) => setImmediate(() => resolve('later'))))
      return 'done'
    })
    expect(seen).toEqual(['from promise', 42, 'later'])
    expect(result).toBe('done')
  })

  it('throws a rejected promise into the generator at the yield, so try/catch works', async () => {
    const { newLocker } = genLock()
    const result = await newLocker('r', null).promise(function* () {
      try {
        yield Promise.reject(new Error('bulb offline'))
        return 'not reached'
      } catch (error) {
        return `caught ${(error as Error).message}`
      }
    })
    expect(result).toBe('caught bulb offline')
  })

  it('rejects the CommitPromise with an uncaught error, and releases the lock', async () => {
    const { newLocker } = genLock()
    const boom = new Error('boom')
    await expect(
      newLocker('r', null).promise(function* () {
        yield Promise.resolve()
        throw boom
      }),
    ).rejects.toBe(boom)
    await expect(newLocker('r', null).promise(function* () {}, { maxAcquireAttempts: 1 })).resolves.toBeUndefined()
  })

  it('supports yield* into sub-generators, and call() types the result', async () => {
    const { newLocker } = genLock()
    function* double(n: number) {
      const value = yield* call(Promise.resolve(n))
      expectTypeOf(value).toEqualTypeOf<number>()
      return value * 2
    }
    const result = await newLocker('r', null).promise(function* () {
      const a = yield* double(2)
      const b = yield* double(a)
      return b
    })
    expect(result).toBe(8)
  })

  it('does not step a generator whose lock was lost, and aborts ctx.signal and ctx.sleep', async () => {
    const { newLocker } = genLock()
    const inFlight = deferred<string>()
    const log: string[] = []
    const holding = deferred()
    let signal: AbortSignal | undefined
    let slept: Promise<boolean> | undefined
    const low = newLocker('bulb', null)
      .promise(function* (_r, ctx) {
        signal = ctx.signal
        slept = ctx.sleep(60_000)
        holding.resolve()
        log.push(`got ${String(yield inFlight.promise)}`)
      })
      .recover((ops) => ops.reject())
      .catch((e: unknown) => e)
    await holding.promise
    const high = newLocker('bulb', null, { priority: 1 }).promise(function* () {
      log.push('high runs')
      inFlight.resolve('value after loss')
      yield Promise.resolve()
      yield Promise.resolve()
      log.push('high ends')
    })
    expect(await slept).toBe(false)
    expect(signal!.aborted).toBe(true)
    expect((signal!.reason as LockError).code).toBe('PREEMPTED')
    await high
    expect(((await low) as LockError).code).toBe('PREEMPTED')
    expect(log).toEqual(['high runs', 'high ends'])
  })
})

describe('recovery', () => {
  function preemptOnce(resource: string, lock = genLock()) {
    const holding = deferred()
    const preempt = async () => {
      await holding.promise
      await lock.newLocker(resource, null, { priority: 99 }).promise(function* () {
        yield Promise.resolve()
      })
    }
    return { lock, holding, preempt }
  }

  it('resume continues the same generator after its last yield, with that yield result', async () => {
    const { lock, holding, preempt } = preemptOnce('bulb')
    const step = deferred<string>()
    const log: string[] = []
    const done = alwaysResume(
      lock.newLocker('bulb', null).promise(function* (_r, ctx) {
        log.push(`attempt ${ctx.attempt}: step 1`)
        holding.resolve()
        const value = yield step.promise
        log.push(`attempt ${ctx.attempt}: step 2 got ${String(value)}`)
        return value
      }),
    )
    const preempted = preempt()
    step.resolve('result of the interrupted yield')
    await preempted
    expect(await done).toBe('result of the interrupted yield')
    expect(log).toEqual(['attempt 1: step 1', 'attempt 2: step 2 got result of the interrupted yield'])
  })

  it('restart closes the old generator (running its finally) and runs the transaction afresh', async () => {
    const { lock, holding, preempt } = preemptOnce('bulb')
    const log: string[] = []
    let runs = 0
    const done = alwaysRestart(
      lock.newLocker('bulb', null).promise(function* () {
        const run = ++runs
        try {
          log.push(`run ${run} start`)
          holding.resolve()
          if (run === 1) yield never()
          return run
        } finally {
          log.push(`run ${run} finally`)
        }
      }),
    )
    await preempt()
    expect(await done).toBe(2)
    expect(log).toEqual(['run 1 start', 'run 1 finally', 'run 2 start', 'run 2 finally'])
  })

  it('replace runs another transaction with the same resource', async () => {
    const { lock, holding, preempt } = preemptOnce('video-1')
    const done = lock
      .newLocker('video-1', 'video-1')
      .promise(function* (): Generator<unknown, string, unknown> {
        holding.resolve()
        yield never()
        return 'processed'
      })
      .recover((ops) =>
        ops.replace(function* (videoId) {
          yield Promise.resolve()
          return `rolled back ${videoId}`
        }),
      )
    await preempt()
    expect(await done).toBe('rolled back video-1')
  })

  it('reject() rejects with the LockError, reject(err) with err, and both close the generator', async () => {
    for (const [given, expected] of [
      [undefined, 'PREEMPTED'],
      [new Error('custom'), 'custom'],
    ] as const) {
      const { lock, holding, preempt } = preemptOnce('bulb')
      let closed = false
      const done = lock
        .newLocker('bulb', null)
        .promise(function* () {
          try {
            holding.resolve()
            yield never()
          } finally {
            closed = true
          }
        })
        .recover((ops) => ops.reject(given))
      await preempt()
      const error = (await done.catch((e: unknown) => e)) as LockError
      expect(error instanceof LockError ? error.code : (error as Error).message).toBe(expected)
      expect(closed).toBe(true)
    }
  })

  it('accepts a promise of an op and calls the handler every time the lock is lost', async () => {
    const lock = genLock()
    const holding = [deferred(), deferred(), deferred()]
    const codes: string[] = []
    let runs = 0
    const done = lock
      .newLocker('bulb', null)
      .promise(function* () {
        const run = runs++
        holding[run]!.resolve()
        if (run < 2) yield never()
        return run
      })
      .recover(async (ops, error) => {
        codes.push(error.code)
        await new Promise((resolve) => setImmediate(resolve))
        return ops.restart()
      })
    for (let i = 0; i < 2; i++) {
      await holding[i]!.promise
      await lock.newLocker('bulb', null, { priority: 5 }).promise(function* () {})
    }
    expect(await done).toBe(2)
    expect(codes).toEqual(['PREEMPTED', 'PREEMPTED'])
  })

  it('rejects with a clear error when the handler returns no op', async () => {
    const { lock, holding, preempt } = preemptOnce('bulb')
    const done = lock
      .newLocker('bulb', null)
      .promise(function* () {
        holding.resolve()
        yield never()
      })
      .recover((() => undefined) as never)
    await preempt()
    const error = (await done.catch((e: unknown) => e)) as Error
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toMatch(
      /must return ops\.resume\(\), ops\.restart\(\), ops\.replace\(tx\) or ops\.reject\(\)/,
    )
  })

  it('rejects with the LockError and closes the generator when there is no handler', async () => {
    const { lock, holding, preempt } = preemptOnce('bulb')
    let closed = false
    const done = lock.newLocker('bulb', null).promise(function* () {
      try {
        holding.resolve()
        yield never()
      } finally {
        closed = true
      }
    })
    await preempt()
    expect(((await done.catch((e: unknown) => e)) as LockError).code).toBe('PREEMPTED')
    expect(closed).toBe(true)
  })

  it('merges options factory < locker < transaction < recovery op, and takes the seed spellings', async () => {
    const lock = genLock({ priority: 1, aquireTimeout: 1000, lockTtl: 5000 })
    const locker = lock.newLocker('bulb', null, { priority: 2, maxAquireAttempts: 3 })
    expect(locker.defaults).toEqual({ priority: 2, acquireTimeout: 1000, lockTtl: 5000, maxAcquireAttempts: 3 })
    const priorities: number[] = []
    const holding = deferred()
    let runs = 0
    const done = locker
      .promise(
        function* (_r, ctx) {
          priorities.push(ctx.priority)
          holding.resolve()
          if (runs++ === 0) yield never()
        },
        { priority: 3 },
      )
      .recover((ops) => ops.restart({ priority: 50 }))
    await holding.promise
    await lock.newLocker('bulb', null, { priority: 4 }).promise(function* () {})
    await done
    expect(priorities).toEqual([3, 50])
  })

  it('refuses bad options with a TypeError naming the option', () => {
    expect(() => genLock({ priority: Number.NaN })).toThrow(/priority must be a finite number/)
    const { newLocker } = genLock()
    expect(() => newLocker('bulb', null, { lockTtl: -1 })).toThrow(/lockTtl must be a number >= 0/)
    expect(() => newLocker('', null)).toThrow(/non-empty resourceGuid/)
  })

  it('refuses bad per-transaction options the same way, leaving no promise unhandled', async () => {
    const unhandled: unknown[] = []
    const record = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', record)
    try {
      const locker = genLock().newLocker('bulb', null)
      expect(() => locker.promise(function* () {}, { maxAcquireAttempts: 0 })).toThrow(
        /maxAcquireAttempts must be a number >= 1/,
      )
      // An unhandled rejection is reported after the microtasks of the macrotask that made it have run.
      await new Promise((resolve) => setImmediate(resolve))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', record)
    }
  })
})

describe('CommitPromise chaining', () => {
  it('recover() returns the same promise; then/catch/finally return promises that still recover', async () => {
    const { lock, holding, preempt } = (() => {
      const lock = genLock()
      const holding = deferred()
      return {
        lock,
        holding,
        preempt: async () => {
          await holding.promise
          await lock.newLocker('bulb', null, { priority: 9 }).promise(function* () {})
        },
      }
    })()
    let runs = 0
    const commit = lock.newLocker('bulb', null).promise(function* () {
      holding.resolve()
      if (runs++ === 0) yield never()
      return 'status'
    })
    expect(commit.recover((ops) => ops.restart())).toBe(commit)
    const chained = commit.then((status) => `Alarm off, bulb status: ${status}`)
    expect(typeof chained.recover).toBe('function')
    expect(typeof chained.catch(() => 'x').recover).toBe('function')
    expect(typeof chained.finally(() => {}).recover).toBe('function')
    // The seed's shape: .then(...).recover(...).catch(...) steers the same transaction.
    const seen = chained.recover((ops) => ops.restart()).catch(() => 'broken')
    await preempt()
    expect(await seen).toBe('Alarm off, bulb status: status')
    expect(alwaysResume(commit)).toBe(commit)
    expect(alwaysRestart(commit)).toBe(commit)
    expectTypeOf(chained).toEqualTypeOf<CommitPromise<string, null>>()
  })

  it('is a real Promise', async () => {
    const commit = genLock()
      .newLocker('r', null)
      .promise(function* () {
        return 1
      })
    expect(commit).toBeInstanceOf(Promise)
    expect(await Promise.all([commit])).toEqual([1])
  })
})

describe('fenced resource', () => {
  function device() {
    const reached: string[] = []
    return {
      reached,
      async set(value: string) {
        reached.push(value)
        return value
      },
    }
  }

  it('refuses calls through the handle once the lock is lost; the call never reaches the device', async () => {
    const lock = genLock()
    const bulb = device()
    const firstCall = deferred()
    const refused = deferred<unknown>()
    const low = lock
      .newLocker('bulb', bulb)
      .promise(function* (handle) {
        // One yielded promise that calls the device again later: that second call outlives the lock.
        yield firstCall.promise.then(() => handle.set('after loss')).catch((error: unknown) => refused.resolve(error))
      })
      .recover((ops) => ops.reject())
      .catch(() => 'preempted')
    await lock.newLocker('bulb', bulb, { priority: 1 }).promise(function* (handle) {
      yield handle.set('alarm')
    })
    firstCall.resolve()
    const error = (await refused.promise) as LockError
    expect(error).toBeInstanceOf(LockError)
    expect(error.code).toBe('FENCED')
    expect(error.message).toMatch(/PREEMPTED.*did not reach the resource/)
    expect(bulb.reached).toEqual(['alarm'])
    expect(await low).toBe('preempted')
  })

  it('refuses calls after the transaction ended, and leaves primitives and properties alone', async () => {
    const bulb = Object.freeze({
      name: 'bath',
      async set(value: string) {
        return value
      },
    })
    let kept: typeof bulb | undefined
    const name = await genLock()
      .newLocker('bulb', bulb)
      .promise(function* (handle) {
        kept = handle
        expect(yield handle.set('x')).toBe('x')
        return handle.name
      })
    expect(name).toBe('bath')
    expect(() => kept!.set('late')).toThrow(/released/)
    expect(
      await genLock()
        .newLocker('video', 'video-7')
        .promise(function* (id) {
          return id
        }),
    ).toBe('video-7')
  })
})

describe('composite locks', () => {
  it('nests: newDualLocker(newDualLocker(a, b), c) hands [[ra, rb], rc]', async () => {
    const lock = genLock()
    const a = lock.newLocker('a', { id: 'a' })
    const b = lock.newLocker('b', { id: 'b' })
    const c = lock.newLocker('c', { id: 'c' })
    const nested = lock.newDualLocker(lock.newDualLocker(a, b), c)
    expect(nested.resourceGuids).toEqual(['a', 'b', 'c'])
    const ids = await nested.promise(function* ([[ra, rb], rc]) {
      return [ra.id, rb.id, rc.id]
    })
    expect(ids).toEqual(['a', 'b', 'c'])
  })

  it('takes the strictest part options: highest priority, shortest ttl and timeout', () => {
    const lock = genLock()
    const a = lock.newLocker('a', null, { priority: 5, lockTtl: 100 })
    const b = lock.newLocker('b', null, { priority: 1, acquireTimeout: 50 })
    expect(lock.newDualLocker(a, b).defaults).toMatchObject({ priority: 5, lockTtl: 100, acquireTimeout: 50 })
    expect(lock.newDualLocker(a, b, { priority: 0 }).defaults.priority).toBe(0)
  })

  it('rejects lockers from another factory', () => {
    const one = genLock()
    const two = genLock()
    expect(() => one.newDualLocker(one.newLocker('a', null), two.newLocker('b', null))).toThrow(/same factory/)
  })
})

describe('cancellation', () => {
  it('cancel() ends a running transaction: finally runs, the lock is released, it rejects CANCELLED', async () => {
    const lock = genLock()
    let closed = false
    const holding = deferred()
    const run = lock.newLocker('bulb', null).promise(function* () {
      try {
        holding.resolve()
        yield never()
      } finally {
        closed = true
      }
    })
    await holding.promise
    run.cancel('party OFF')
    const error = (await run.catch((e: unknown) => e)) as LockError
    expect(error.code).toBe('CANCELLED')
    expect(error.message).toMatch(/party OFF/)
    expect(closed).toBe(true)
    await expect(lock.newLocker('bulb', null).promise(function* () {}, { maxAcquireAttempts: 1 })).resolves.toBe(
      undefined,
    )
  })

  it('an aborted signal option cancels the transaction', async () => {
    const controller = new AbortController()
    const holding = deferred()
    const run = genLock()
      .newLocker('bulb', null)
      .promise(
        function* () {
          holding.resolve()
          yield never()
        },
        { signal: controller.signal },
      )
    await holding.promise
    controller.abort('stop')
    expect(((await run.catch((e: unknown) => e)) as LockError).code).toBe('CANCELLED')
  })
})

describe('timers', () => {
  const timeouts = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length

  it('leaves no timer running after transactions with lockTtl and acquireTimeout end', async () => {
    const before = timeouts()
    const lock = genLock({ lockTtl: 60_000, acquireTimeout: 60_000 })
    const holding = deferred()
    const release = deferred()
    const first = lock.newLocker('bulb', null).promise(function* (_r, ctx) {
      holding.resolve()
      yield release.promise
      yield ctx.sleep(1)
    })
    await holding.promise
    const second = lock.newLocker('bulb', null).promise(function* () {})
    expect(timeouts()).toBeGreaterThan(before)
    release.resolve()
    await Promise.all([first, second])
    expect(timeouts()).toBe(before)
  })
})

describe('transactions under a patched global Promise (APM and zone-style libraries)', () => {
  const Native = Promise

  /** Runs `start` while `Patched` is the global Promise. */
  function withGlobalPromise<T>(Patched: PromiseConstructor, start: () => T): T {
    globalThis.Promise = Patched
    try {
      return start()
    } finally {
      globalThis.Promise = Native
    }
  }

  it('settles both when the Promise constructor starts another transaction after calling its executor', async () => {
    const { newLocker } = genLock()
    const outerLocker = newLocker('outer', null)
    const innerLocker = newLocker('inner', null)
    let inner: Promise<string> | undefined
    let started = false
    class StartsOneMore<T> extends Native<T> {
      constructor(executor: (resolve: (value: T) => void, reject: (error: unknown) => void) => void) {
        super(executor)
        if (started) return
        started = true
        inner = innerLocker.promise(function* () {
          return 'inner'
        })
      }
    }
    const outer = withGlobalPromise(StartsOneMore as PromiseConstructor, () =>
      outerLocker.promise(function* () {
        return 'outer'
      }),
    )
    await expect(outer).resolves.toBe('outer')
    await expect(inner).resolves.toBe('inner')
  })

  it('throws a TypeError when the Promise constructor does not call its executor at once', () => {
    const { newLocker } = genLock()
    class Late<T> extends Native<T> {
      constructor(executor: (resolve: (value: T) => void, reject: (error: unknown) => void) => void) {
        let later!: () => void
        super((resolve, reject) => (later = () => executor(resolve, reject)))
        queueMicrotask(later)
      }
    }
    expect(() =>
      withGlobalPromise(Late as PromiseConstructor, () => newLocker('late', null).promise(function* () {})),
    ).toThrow(TypeError)
  })
})

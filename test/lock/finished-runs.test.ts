/**
 * A finished transaction's promise may be held for long (by a caller, a trace, `Promise.all` over a batch), and it
 * holds the run. The run must not keep what only a running transaction needs: the generator, with every local of the
 * transaction's frame.
 */
import { describe, expect, it } from 'vitest'
import genLock, { type Transaction } from '../../src/index.js'
import { collectGarbage } from '../support/collect-garbage.js'

/** Wraps `body` so the test gets a WeakRef to each generator the run makes. */
function watched<T>(body: Transaction<null, T>): { transaction: Transaction<null, T>; generators: WeakRef<object>[] } {
  const generators: WeakRef<object>[] = []
  return {
    generators,
    transaction: (resource, context) => {
      const generator = body(resource, context)
      generators.push(new WeakRef(generator))
      return generator
    },
  }
}

describe('a finished transaction, its promise still held', () => {
  it('lets go of its generator when it returned', async () => {
    const { newLocker } = genLock()
    const { transaction, generators } = watched(function* () {
      yield Promise.resolve()
      return 'done'
    })
    const held = newLocker('bulb', null).promise(transaction)
    await expect(held).resolves.toBe('done')
    await collectGarbage()
    expect(generators).toHaveLength(1)
    expect(generators[0]!.deref()).toBeUndefined()
  })

  it('lets go of its generator when it threw', async () => {
    const { newLocker } = genLock()
    const { transaction, generators } = watched(function* () {
      yield Promise.resolve()
      // Not an Error: an Error's captured stack trace refers to the generator's frame itself.
      throw { reason: 'bulb unplugged' }
    })
    const held = newLocker('bulb', null).promise(transaction)
    await expect(held).rejects.toEqual({ reason: 'bulb unplugged' })
    await collectGarbage()
    expect(generators[0]!.deref()).toBeUndefined()
  })

  it('lets go of its generator when it was cancelled mid-way', async () => {
    const { newLocker } = genLock()
    let started!: () => void
    const running = new Promise<void>((resolve) => (started = resolve))
    const { transaction, generators } = watched(function* () {
      started()
      yield new Promise(() => {})
    })
    const held = newLocker('bulb', null).promise(transaction)
    await running
    held.cancel()
    await expect(held).rejects.toMatchObject({ code: 'CANCELLED' })
    await collectGarbage()
    expect(generators[0]!.deref()).toBeUndefined()
  })
})

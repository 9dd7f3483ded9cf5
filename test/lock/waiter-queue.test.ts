import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { WaiterQueue, type QueueEntry } from '../../src/lock/waiter-queue.js'

describe('WaiterQueue', () => {
  it('ranks by priority, highest first, and first come first served within a priority', () => {
    const queue = new WaiterQueue<string>()
    queue.push('a0', 0)
    queue.push('b2', 2)
    queue.push('c0', 0)
    queue.push('d-1', -1)
    queue.push('e2', 2)
    queue.push('f1', 1)
    expect([...queue]).toEqual(['b2', 'e2', 'f1', 'a0', 'c0', 'd-1'])
    expect(queue.first()).toBe('b2')
    expect(queue.size).toBe(6)
  })

  it('removes any entry, first, middle or last of its priority, and ignores a second removal', () => {
    const queue = new WaiterQueue<string>()
    const entries = ['a', 'b', 'c', 'd'].map((value) => queue.push(value, 0))
    const high = queue.push('h', 5)
    queue.remove(entries[1]!)
    queue.remove(entries[1]!)
    expect([...queue]).toEqual(['h', 'a', 'c', 'd'])
    queue.remove(high)
    expect(queue.first()).toBe('a')
    queue.remove(entries[0]!)
    queue.remove(entries[3]!)
    expect([...queue]).toEqual(['c'])
    queue.remove(entries[2]!)
    expect(queue.size).toBe(0)
    expect(queue.first()).toBeUndefined()
    expect([...queue]).toEqual([])
    // An emptied priority comes back behind nothing and ahead of lower ones.
    queue.push('low', -3)
    queue.push('again', 0)
    expect([...queue]).toEqual(['again', 'low'])
  })

  it('queues a value that is its own entry (link) among pushed ones, by the same rules', () => {
    class Own implements QueueEntry<Own> {
      bucket: QueueEntry<Own>['bucket'] = undefined
      prev: QueueEntry<Own> | undefined = undefined
      next: QueueEntry<Own> | undefined = undefined
      constructor(
        readonly name: string,
        readonly priority: number,
      ) {}
      get value(): Own {
        return this
      }
    }
    const queue = new WaiterQueue<Own>()
    const a = new Own('a', 0)
    const b = new Own('b', 1)
    queue.link(a)
    const pushed = queue.push(new Own('p', 0), 0)
    queue.link(b)
    expect([...queue].map((own) => own.name)).toEqual(['b', 'a', 'p'])
    queue.remove(a)
    expect(a.bucket).toBeUndefined()
    queue.remove(b)
    expect(queue.first()?.name).toBe('p')
    queue.remove(pushed)
    expect(queue.size).toBe(0)
    // Taken out, it can be queued again, at its priority's end.
    queue.link(a)
    queue.push(new Own('q', 0), 0)
    queue.remove(a)
    queue.link(a)
    expect([...queue].map((own) => own.name)).toEqual(['q', 'a'])
  })

  it('lets the value being visited be removed while iterating', () => {
    const queue = new WaiterQueue<number>()
    const entries = new Map<number, QueueEntry<number>>()
    for (let i = 0; i < 6; i++) entries.set(i, queue.push(i, i % 2))
    const seen: number[] = []
    for (const value of queue) {
      seen.push(value)
      if (value % 3 === 0) queue.remove(entries.get(value)!)
    }
    expect(seen).toEqual([1, 3, 5, 0, 2, 4])
    expect([...queue]).toEqual([1, 5, 2, 4])
  })

  it('behaves like a stably sorted array under any mix of pushes and removals', () => {
    type Op = { kind: 'push'; priority: number } | { kind: 'remove'; pick: number }
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), priority: fc.integer({ min: -2, max: 3 }) }),
      fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
    )
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
        const queue = new WaiterQueue<number>()
        const model: { id: number; priority: number; entry: QueueEntry<number> }[] = []
        let next = 0
        for (const op of ops) {
          if (op.kind === 'push') {
            const id = next++
            const entry = queue.push(id, op.priority)
            let index = model.length
            while (index > 0 && model[index - 1]!.priority < op.priority) index--
            model.splice(index, 0, { id, priority: op.priority, entry })
          } else if (model.length > 0) {
            const [gone] = model.splice(op.pick % model.length, 1)
            queue.remove(gone!.entry)
          }
          expect(queue.size).toBe(model.length)
          expect(queue.first()).toBe(model[0]?.id)
        }
        expect([...queue]).toEqual(model.map((m) => m.id))
      }),
      { numRuns: 300 },
    )
  })

  it('costs the same per operation at any depth (100,000 waiters in, middle ones withdrawn, all out)', () => {
    // Not a timing assertion: with an O(n) unlink this loop alone would take minutes (10^10 steps).
    const queue = new WaiterQueue<number>()
    const entries: QueueEntry<number>[] = []
    for (let i = 0; i < 100_000; i++) entries.push(queue.push(i, i % 3))
    for (let i = 1; i < 100_000; i += 2) queue.remove(entries[i]!)
    const order: number[] = []
    for (let value = queue.first(); value !== undefined; value = queue.first()) {
      order.push(value)
      queue.remove(entries[value]!)
    }
    const rank = (value: number) => (2 - (value % 3)) * 1_000_000 + value
    expect(order).toHaveLength(50_000)
    expect(order.every((value, i) => i === 0 || rank(value) > rank(order[i - 1]!))).toBe(true)
  })
})

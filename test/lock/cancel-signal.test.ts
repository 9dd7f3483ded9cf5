import { describe, expect, it } from 'vitest'
import { CancelSignal } from '../../src/lock/cancel-signal.js'

describe('CancelSignal', () => {
  it('calls every listener still registered once, in order, and forgets them', () => {
    const signal = new CancelSignal()
    const calls: string[] = []
    const a = () => calls.push('a')
    const b = () => calls.push('b')
    const c = () => calls.push('c')
    signal.addEventListener('abort', a)
    signal.addEventListener('abort', b)
    signal.addEventListener('abort', c)
    signal.removeEventListener('abort', a) // the first one: the next takes its place
    signal.removeEventListener('abort', a)
    signal.abort('why')
    signal.abort('again')
    expect(calls).toEqual(['b', 'c'])
    expect(signal.aborted).toBe(true)
    expect(signal.reason).toBe('why')
    signal.addEventListener('abort', a) // after the abort: never called
    expect(calls).toEqual(['b', 'c'])
  })

  it('removes a later listener and keeps the first', () => {
    const signal = new CancelSignal()
    const calls: string[] = []
    const a = () => calls.push('a')
    const b = () => calls.push('b')
    signal.addEventListener('abort', a)
    signal.addEventListener('abort', b)
    signal.removeEventListener('abort', b)
    signal.abort(undefined)
    expect(calls).toEqual(['a'])
  })
})

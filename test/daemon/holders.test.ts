import { describe, expect, it } from 'vitest'
import { DeviceHolders, holderName } from '../../src/daemon/holders.js'
import genLock from '../../src/lock/index.js'

describe('DeviceHolders', () => {
  it('names holders as the state topics show them', () => {
    expect(holderName('automation:party')).toBe('party')
    expect(holderName('manual:bath_bulb')).toBe('manual')
    expect(holderName('my-script')).toBe('my-script')
  })

  it('follows the lock at the moment it changes hands: acquired, preempted, released', async () => {
    const locks = genLock()
    const holders = new DeviceHolders()
    const changes: string[] = []
    locks.protocol.on((event) => {
      if (holders.apply(event)) changes.push(`${event.type}:${holders.holderOf('bulb') ?? 'free'}`)
    })
    let releaseParty!: () => void
    const partyGoing = new Promise<void>((resolve) => (releaseParty = resolve))
    const party = locks
      .newLocker('bulb', {}, { priority: 0 }, 'automation:party')
      .promise(function* () {
        yield partyGoing
      })
      .recover((ops) => ops.resume())
    await Promise.resolve()
    expect(holders.holderOf('bulb')).toBe('party')
    await locks.newLocker('bulb', {}, { priority: 200 }, 'automation:alarm').promise(function* () {
      yield Promise.resolve()
    })
    releaseParty()
    await party
    expect(holders.holderOf('bulb')).toBeUndefined()
    expect(changes).toEqual([
      'acquired:party',
      'preempted:free',
      'acquired:alarm',
      'released:free',
      'acquired:party',
      'released:free',
    ])
  })

  it('keeps a holder that holds twice (re-entrance) until its last lease goes', async () => {
    const locks = genLock()
    const holders = new DeviceHolders()
    locks.protocol.on((event) => holders.apply(event))
    let endFirst!: () => void
    const first = locks.newLocker('bulb', {}, { priority: 0 }, 'automation:party').promise(function* () {
      yield new Promise<void>((resolve) => (endFirst = resolve))
    })
    let endSecond!: () => void
    const second = locks.newLocker('bulb', {}, { priority: 0 }, 'automation:party').promise(function* () {
      yield new Promise<void>((resolve) => (endSecond = resolve))
    })
    await Promise.resolve()
    endFirst()
    await first
    expect(holders.holderOf('bulb')).toBe('party')
    endSecond()
    await second
    expect(holders.holderOf('bulb')).toBeUndefined()
  })
})

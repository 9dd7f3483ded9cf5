import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startRedis } from '../support/services.js'
import { uniqueResource } from './helpers.js'
import { SharedBulb, Worker } from './redis/workers.js'

/**
 * Several processes, each with its own Redis client, sharing one bulb (which lives in this test process and
 * sees every command with the fencing token it was sent under).
 */
describe('redis protocol across processes', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>
  let workers: Worker[] = []
  let bulb: SharedBulb
  let prefixes = 0

  beforeAll(async () => {
    redis = await startRedis()
  })

  afterAll(async () => {
    await redis?.dispose()
  })

  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.close()))
    workers = []
  })

  async function startWorkers(count: number, options: { lease?: number; handoffTimeout?: number } = {}) {
    bulb = new SharedBulb()
    const keyPrefix = `processes-${++prefixes}`
    workers = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        Worker.start(`w${i}`, bulb, { url: redis.url, keyPrefix, lease: options.lease ?? 5000, ...options }),
      ),
    )
    return workers
  }

  /** No command reached the bulb under an older token than one it had already seen: nobody interleaved. */
  function expectNoInterleaving() {
    const newest = new Map<string, number>()
    for (const command of bulb.log) {
      expect(command.token, `${command.tx}:${command.step}`).toBeGreaterThanOrEqual(newest.get(command.resource) ?? 0)
      newest.set(command.resource, command.token)
    }
  }

  it('keeps the bulb exclusive under random contention with preemption, every step run once', async () => {
    const [a, b, c] = await startWorkers(3)
    const resource = uniqueResource('contended')
    const plan: { worker: Worker; tx: string; steps: number }[] = []
    for (let round = 0; round < 5; round++) {
      for (const worker of [a!, b!, c!]) {
        const tx = `${worker.name}-${round}`
        const steps = 2 + Math.floor(Math.random() * 4)
        plan.push({ worker, tx, steps })
        worker.run(tx, resource, Math.floor(Math.random() * 3), steps)
      }
    }
    await Promise.all(plan.map(({ worker, tx }) => worker.done(tx)))
    expectNoInterleaving()
    for (const { tx, steps } of plan) {
      expect(bulb.log.filter((command) => command.tx === tx).map((command) => command.step)).toEqual(
        Array.from({ length: steps }, (_, i) => i),
      )
    }
  })

  it('grants waiters in different processes by priority, then arrival', async () => {
    const [holder, x, y] = await startWorkers(3)
    const resource = uniqueResource('order')
    bulb.hold('holder')
    holder!.run('holder', resource, 10, 1)
    await holder!.command('holder', 0)
    const queue: [Worker, string, number][] = [
      [x!, 'x-p1', 1],
      [y!, 'y-p3', 3],
      [x!, 'x-p2', 2],
      [y!, 'y-p3-later', 3],
    ]
    for (const [worker, tx, priority] of queue) {
      worker.run(tx, resource, priority, 1)
      await worker.event('waiting', resource, tx)
    }
    bulb.letGo('holder')
    await Promise.all(queue.map(([worker, tx]) => worker.done(tx)))
    expect(bulb.steps()).toEqual(['holder:0', 'y-p3:0', 'y-p3-later:0', 'x-p2:0', 'x-p1:0'])
  })

  it('preempts a holder in another process at once; the holder resumes where it stopped', async () => {
    const [partyHost, alarmHost] = await startWorkers(2)
    const resource = uniqueResource('bath_bulb')
    bulb.hold('party')
    partyHost!.run('party', resource, 0, 4)
    await partyHost!.command('party', 0)
    alarmHost!.run('alarm', resource, 2, 3)
    await alarmHost!.done('alarm')
    await partyHost!.next((m) => m.type === 'recover' && m.tx === 'party', true)
    expect(partyHost!.recoveries('party')).toEqual(['PREEMPTED'])
    bulb.letGo('party')
    await partyHost!.done('party')
    expect(bulb.steps()).toEqual(['party:0', 'alarm:0', 'alarm:1', 'alarm:2', 'party:1', 'party:2', 'party:3'])
    expectNoInterleaving()
  })

  it('hands the lock over after handoffTimeout when the preempted holder cannot acknowledge', async () => {
    // A long lease: the victim's own lease must not run out while it is stopped (a loaded machine can keep the
    // thief's two steps waiting for seconds), or it would recover with LOST instead of PREEMPTED.
    const [victimHost, thiefHost] = await startWorkers(2, { handoffTimeout: 200, lease: 60_000 })
    const resource = uniqueResource('stopped-victim')
    bulb.hold('victim')
    victimHost!.run('victim', resource, 0, 2)
    await victimHost!.command('victim', 0)
    victimHost!.child.kill('SIGSTOP')
    thiefHost!.run('thief', resource, 5, 2)
    await thiefHost!.done('thief')
    victimHost!.child.kill('SIGCONT')
    bulb.letGo('victim')
    await victimHost!.done('victim')
    expect(victimHost!.recoveries('victim')).toEqual(['PREEMPTED'])
    expect(bulb.steps()).toEqual(['victim:0', 'thief:0', 'thief:1', 'victim:1'])
  })

  it('passes the lock of a holder killed with -9 to a waiter once its lease runs out', async () => {
    const [doomedHost, survivorHost] = await startWorkers(2, { lease: 1000 })
    const resource = uniqueResource('killed-holder')
    bulb.hold('doomed')
    doomedHost!.run('doomed', resource, 0, 2)
    await doomedHost!.command('doomed', 0)
    survivorHost!.run('survivor', resource, 0, 1)
    await survivorHost!.event('waiting', resource, 'survivor')
    doomedHost!.child.kill('SIGKILL')
    await survivorHost!.done('survivor')
    expect(bulb.steps()).toEqual(['doomed:0', 'survivor:0'])
    expectNoInterleaving()
  })

  it('evicts a waiter killed with -9 once its lease runs out, so those behind it are served', async () => {
    const [holderHost, doomedHost, patientHost] = await startWorkers(3, { lease: 1000 })
    const resource = uniqueResource('killed-waiter')
    bulb.hold('holder')
    holderHost!.run('holder', resource, 10, 1)
    await holderHost!.command('holder', 0)
    doomedHost!.run('doomed', resource, 5, 1)
    await doomedHost!.event('waiting', resource, 'doomed')
    patientHost!.run('patient', resource, 1, 1)
    await patientHost!.event('waiting', resource, 'patient')
    doomedHost!.child.kill('SIGKILL')
    await doomedHost!.exited
    bulb.letGo('holder')
    await patientHost!.done('patient')
    expect(bulb.steps()).toEqual(['holder:0', 'patient:0'])
  })

  it('fences a holder stopped past its lease: after SIGCONT its next command is refused and it recovers', async () => {
    const [sleeperHost, wakerHost] = await startWorkers(2, { lease: 600 })
    const resource = uniqueResource('stopped-holder')
    sleeperHost!.run('sleeper', resource, 0, 2, 1)
    await sleeperHost!.next((m) => m.type === 'awaiting-go' && m.tx === 'sleeper', true)
    sleeperHost!.child.kill('SIGSTOP')
    bulb.hold('waker')
    wakerHost!.run('waker', resource, 0, 2)
    await wakerHost!.command('waker', 0) // the sleeper's lease ran out: the waker holds the lock
    sleeperHost!.child.kill('SIGCONT')
    sleeperHost!.send({ type: 'go', tx: 'sleeper' })
    const fenced = await sleeperHost!.next((m) => m.type === 'fenced' && m.tx === 'sleeper')
    expect(fenced).toMatchObject({ message: expect.stringContaining('did not reach the resource') })
    await sleeperHost!.next((m) => m.type === 'recover' && m.tx === 'sleeper', true)
    expect(sleeperHost!.recoveries('sleeper')).toEqual(['LOST'])
    bulb.letGo('waker')
    await wakerHost!.done('waker')
    // Resumed, the transaction is handed the refusal at the yield it stopped at, and fails with it.
    const end = await sleeperHost!.next((m) => (m.type === 'done' || m.type === 'failed') && m.tx === 'sleeper', true)
    expect(end).toMatchObject({ type: 'failed', code: 'FENCED' })
    expect(bulb.steps()).toEqual(['sleeper:0', 'waker:0', 'waker:1'])
  })
})

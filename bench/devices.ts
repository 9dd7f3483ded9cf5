/**
 * The device command queue vs async-mutex (a Mutex serialising the same calls), and vs no queue at all:
 *   (a) commands/s: back-to-back no-op commands, and full `setState` to a sim bulb with no latency
 *   (b) per-command overhead the queue adds over calling the task directly (median; goal < 20 µs)
 *   (c) latency of commands to 3 healthy sim bulbs, with a 4th bulb hung vs all 4 healthy
 *
 * Rounds alternate between implementations so both see the same heap and JIT state.
 */
import { Mutex } from 'async-mutex'
import { cpus } from 'node:os'
import { CommandQueue } from '../src/devices/command-queue.js'
import { SimBulb } from '../src/devices/sim/sim-bulb.js'
import { median, percentile, printTable } from './stats.js'

const ROUNDS = 5
const N = 100_000
const task = () => Promise.resolve(1)

function now(): number {
  return Number(process.hrtime.bigint()) / 1e3 // µs
}

/** Sequential awaited calls through `run`; returns calls per second. */
async function throughput(run: (n: number) => Promise<unknown>, n = N): Promise<number> {
  const start = now()
  for (let i = 0; i < n; i++) await run(i)
  return n / ((now() - start) / 1e6)
}

/** Per-call latency samples (µs) of `run`, one call at a time. */
async function latencies(run: () => Promise<unknown>, n: number): Promise<number[]> {
  const samples = new Array<number>(n)
  for (let i = 0; i < n; i++) {
    const start = now()
    await run()
    samples[i] = now() - start
  }
  return samples
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${cpus().length} cpus, ${cpus()[0]?.model ?? 'unknown cpu'}`)
  const queue = new CommandQueue({ device: 'bench (sim)' })
  const mutex = new Mutex()
  const queued = () => queue.run(task)
  const mutexed = () => mutex.runExclusive(task)
  const direct = () => task()
  const simQueued = new SimBulb({ id: 'bench', commandLogLimit: 100 })
  await simQueued.start()
  let level = 0
  const setState = () => simQueued.setState({ brightness: (level++ % 100) + 1 })

  // warm-up
  await throughput(queued, 20_000)
  await throughput(mutexed, 20_000)
  await throughput(setState, 20_000)

  const rates = { queue: [] as number[], mutex: [] as number[], direct: [] as number[], bulb: [] as number[] }
  const overhead = { queue: [] as number[], mutex: [] as number[], direct: [] as number[] }
  for (let round = 0; round < ROUNDS; round++) {
    rates.queue.push(await throughput(queued))
    rates.mutex.push(await throughput(mutexed))
    rates.direct.push(await throughput(direct))
    rates.bulb.push(await throughput(setState))
    overhead.queue.push(...(await latencies(queued, 20_000)))
    overhead.mutex.push(...(await latencies(mutexed, 20_000)))
    overhead.direct.push(...(await latencies(direct, 20_000)))
  }
  const rate = (values: number[]) => median(values)
  printTable('(a) commands per second, one at a time (median of rounds; higher is better)', [
    [
      'queue.run(no-op) vs async-mutex runExclusive',
      rate(rates.queue),
      rate(rates.mutex),
      rate(rates.queue) / rate(rates.mutex),
      '',
    ],
    [
      'queue.run(no-op) vs calling it directly',
      rate(rates.queue),
      rate(rates.direct),
      rate(rates.queue) / rate(rates.direct),
      '',
    ],
    [
      'SimBulb.setState (validate + queue + apply) vs async-mutex no-op',
      rate(rates.bulb),
      rate(rates.mutex),
      rate(rates.bulb) / rate(rates.mutex),
      '',
    ],
  ])

  const directMedian = median(overhead.direct)
  const queueOverhead = median(overhead.queue) - directMedian
  const mutexOverhead = median(overhead.mutex) - directMedian
  console.log('\n(b) per-command overhead over a direct call, µs (lower is better)')
  console.log('| case | genlock queue | async-mutex | ratio | goal |')
  console.log('|---|---:|---:|---:|---|')
  console.log(
    `| median | ${queueOverhead.toFixed(2)} | ${mutexOverhead.toFixed(2)} | ${(queueOverhead / mutexOverhead).toFixed(2)}x | < 20 µs: ${queueOverhead < 20 ? 'met' : 'MISSED'} |`,
  )
  console.log(
    `| p99 | ${(percentile(overhead.queue, 99) - directMedian).toFixed(2)} | ${(percentile(overhead.mutex, 99) - directMedian).toFixed(2)} | | |`,
  )
  console.log(`(direct call median ${directMedian.toFixed(2)} µs, subtracted)`)

  // (c) One hung bulb among four: the healthy bulbs' latency must not change.
  async function healthyLatencies(hangOne: boolean): Promise<number[]> {
    const bulbs = [0, 1, 2, 3].map(
      (i) => new SimBulb({ id: `bulb${i}`, commandLogLimit: 100, queue: { timeoutMs: 60_000 } }),
    )
    for (const bulb of bulbs) await bulb.start()
    const stuck = bulbs[3]!
    const pending: Promise<unknown>[] = []
    if (hangOne) {
      stuck.setHung(true)
      for (let i = 0; i < 1000; i++) pending.push(stuck.setPower(i % 2 === 0).catch(() => {}))
    }
    const samples: number[] = []
    for (let i = 0; i < 30_000; i++) {
      const bulb = bulbs[i % 3]!
      const start = now()
      await bulb.setState({ brightness: (i % 100) + 1 })
      samples.push(now() - start)
    }
    if (hangOne) {
      stuck.setHung(false)
      await Promise.all(pending)
    }
    for (const bulb of bulbs) await bulb.stop()
    return samples
  }
  const none: number[] = []
  const hung: number[] = []
  await healthyLatencies(false) // warm-up
  for (let round = 0; round < 3; round++) {
    none.push(...(await healthyLatencies(false)))
    hung.push(...(await healthyLatencies(true)))
  }
  console.log(
    "\n(c) healthy bulbs' setState latency, µs: one of four bulbs hung (1000 commands queued on it) vs none hung",
  )
  console.log('| statistic | one bulb hung | none hung | ratio |')
  console.log('|---|---:|---:|---:|')
  for (const [name, p] of [
    ['median', 50],
    ['p99', 99],
  ] as const) {
    const a = percentile(hung, p)
    const b = percentile(none, p)
    console.log(`| ${name} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(a / b).toFixed(2)}x |`)
  }
}

await main()

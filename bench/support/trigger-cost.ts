/**
 * bench/support/trigger-cost: the footprint bench's trigger workload alone, for paired before/after runs of the
 * broker path. Spawns the built daemon (dist/cli/index.js, `npm run build` first) with 50 sim bulbs and 20
 * automations, on its embedded broker or on a mosquitto started here, drives TRIGGERS triggers with one in flight
 * per automation (as bench/footprint.ts does) and prints triggers/s, the daemon's CPU time per trigger (and
 * mosquitto's, from /proc) and the trigger → reply latency.
 *
 *   npx tsx bench/support/trigger-cost.ts embedded|mosquitto [triggers] [node flags...]
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'mqtt'
import { freePort, startMosquitto } from '../../test/support/services.js'
import { AUTOMATIONS, writeFootprintSetup } from './footprint-setup.js'

const [mode = 'embedded', count = '10000', ...nodeFlags] = process.argv.slice(2)
const TRIGGERS = Number(count)
/** TRIGGER_COST_IN_FLIGHT=1 sends one trigger at a time (latency alone); default one per automation. */
const IN_FLIGHT = Number(process.env.TRIGGER_COST_IN_FLIGHT ?? AUTOMATIONS)
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim())

/** CPU time (user + system) a process has used so far, in seconds, from /proc. */
function cpuSeconds(pid: number): number {
  const { user, system } = cpuTimes(pid)
  return user + system
}

function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS }
}

const scratch = mkdtempSync(join(tmpdir(), 'genlock-trigger-cost-'))
const mosquitto = mode === 'mosquitto' ? await startMosquitto() : undefined
const port = mosquitto?.port ?? (await freePort())
const config = writeFootprintSetup(
  scratch,
  mosquitto ? `{ url: "${mosquitto.url}" }` : `{ embedded: true, port: ${port} }`,
)
const child = spawn(process.execPath, [...nodeFlags, 'dist/cli/index.js', 'run', '--config', config], {
  stdio: ['ignore', 'pipe', 'inherit'],
})
await new Promise<void>((resolve, reject) => {
  let buffered = ''
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString()
    if (/"msg":"genlock ready"/.test(buffered)) {
      buffered = ''
      resolve()
    }
  }
  child.stdout.on('data', onData)
  child.once('exit', (code) => reject(new Error(`daemon exited (${code})`)))
})
child.stdout.resume()

const client = connect(`mqtt://127.0.0.1:${port}`, { clientId: `trigger-cost-${process.pid}` })
await new Promise<void>((resolve) => client.once('connect', () => resolve()))
await client.subscribeAsync('bench/out/+', { qos: 1 })

async function drive(n: number): Promise<number[]> {
  const latencies: number[] = []
  const sentAt = new Array<number>(AUTOMATIONS).fill(0)
  let sent = 0
  let received = 0
  await new Promise<void>((resolve) => {
    const send = (i: number) => {
      if (sent >= n) return
      sent++
      sentAt[i] = performance.now()
      client.publish(`bench/in/${i}`, 'ON', { qos: 1 })
    }
    const onMessage = (topic: string) => {
      const i = Number(topic.slice('bench/out/'.length))
      latencies.push(performance.now() - sentAt[i]!)
      received++
      if (received < n) send(i)
      else if (received === n) {
        client.off('message', onMessage)
        resolve()
      }
    }
    client.on('message', onMessage)
    for (let i = 0; i < IN_FLIGHT; i++) send(i)
  })
  return latencies
}

await drive(1000) // warm-up: JIT, first allocations
const daemonBefore = cpuSeconds(child.pid!)
const systemBefore = cpuTimes(child.pid!).system
const brokerBefore = mosquitto ? cpuSeconds(mosquitto.pid!) : 0
const started = performance.now()
const latencies = await drive(TRIGGERS)
const seconds = (performance.now() - started) / 1000
const daemonCpu = cpuSeconds(child.pid!) - daemonBefore
const daemonSystem = cpuTimes(child.pid!).system - systemBefore
const brokerCpu = mosquitto ? cpuSeconds(mosquitto.pid!) - brokerBefore : 0
latencies.sort((a, b) => a - b)
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(2)
console.log(
  JSON.stringify({
    mode,
    inFlight: IN_FLIGHT,
    triggers: TRIGGERS,
    perSecond: Math.round(TRIGGERS / seconds),
    daemonCpuUsPerTrigger: Math.round((daemonCpu / TRIGGERS) * 1e6),
    brokerCpuUsPerTrigger: Math.round((brokerCpu / TRIGGERS) * 1e6),
    daemonCpuPercent: Math.round((daemonCpu / seconds) * 100),
    /** Of the daemon's CPU time, the share spent in the kernel (socket and file syscalls). */
    daemonSystemPercent: Math.round((daemonSystem / daemonCpu) * 100),
    latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) },
  }),
)
await client.endAsync()
const exited = new Promise((resolve) => child.once('exit', resolve))
child.kill('SIGTERM')
await exited
await mosquitto?.dispose()
rmSync(scratch, { recursive: true, force: true })

/**
 * bench/support/broker-cost: what a broker alone costs per message, the embedded one (aedes behind genlock's
 * packet-size guard and limited persistence, from dist/: `npm run build` first) or a mosquitto, each in a process
 * of its own. A publisher sends QoS 1 messages to a subscriber with a persistent session at QoS 1 (as the daemon
 * subscribes), 20 in flight; printed: messages/s and the broker process's CPU time per message, from /proc.
 *
 *   npx tsx bench/support/broker-cost.ts embedded|mosquitto [messages] [dist folder]
 */
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { connect } from 'mqtt'
import { startMosquitto } from '../../test/support/services.js'
import { shippedNodeFlags } from './shipped-flags.js'

const [mode = 'embedded', count = '20000', dist = 'dist'] = process.argv.slice(2)
const MESSAGES = Number(count)
const IN_FLIGHT = 20
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim())

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}

/** The embedded broker alone, in a node process with the shipped flags; resolves with its pid, port and stop. */
async function startEmbedded(): Promise<{ pid: number; port: number; stop: () => Promise<void> }> {
  const index = resolve(dist, 'mqtt/index.js')
  const script = [
    `const { startEmbeddedBroker } = await import(${JSON.stringify(index)})`,
    'const broker = await startEmbeddedBroker({ port: 0 })',
    'console.log(`PORT ${broker.port}`)',
    "process.on('SIGTERM', () => broker.close().then(() => process.exit(0)))",
  ].join('\n')
  const flags = shippedNodeFlags(process.cwd())
  const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise<number>((done, fail) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /PORT (\d+)/.exec(chunk.toString())
      if (match) done(Number(match[1]))
    })
    child.once('exit', (code) => fail(new Error(`embedded broker exited (${code})`)))
  })
  const stop = async () => {
    const exited = new Promise((done) => child.once('exit', done))
    child.kill('SIGTERM')
    await exited
  }
  return { pid: child.pid!, port, stop }
}

async function startBroker(): Promise<{ pid: number; port: number; stop: () => Promise<void> }> {
  if (mode === 'embedded') return startEmbedded()
  const mosquitto = await startMosquitto()
  return { pid: mosquitto.pid!, port: mosquitto.port, stop: () => mosquitto.dispose() }
}

const broker = await startBroker()
const url = `mqtt://127.0.0.1:${broker.port}`
const subscriber = connect(url, { clientId: 'broker-cost-sub', clean: false })
await new Promise((done) => subscriber.once('connect', done))
;(subscriber.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true)
await subscriber.subscribeAsync('cost/+', { qos: 1 })
const publisher = connect(url, { clientId: 'broker-cost-pub' })
await new Promise((done) => publisher.once('connect', done))

/** Sends `n` messages, one in flight per topic, each next one once the subscriber has the last. */
async function run(n: number): Promise<void> {
  let sent = 0
  let received = 0
  await new Promise<void>((done) => {
    const send = (i: number) => {
      if (sent >= n) return
      sent++
      publisher.publish(`cost/${i}`, 'ON', { qos: 1 })
    }
    const onMessage = (topic: string) => {
      received++
      if (received === n) {
        subscriber.off('message', onMessage)
        done()
      } else send(Number(topic.slice('cost/'.length)))
    }
    subscriber.on('message', onMessage)
    for (let i = 0; i < IN_FLIGHT; i++) send(i)
  })
}

await run(2000) // warm-up
const cpuBefore = cpuSeconds(broker.pid)
const started = performance.now()
await run(MESSAGES)
const seconds = (performance.now() - started) / 1000
const cpu = cpuSeconds(broker.pid) - cpuBefore
console.log(
  JSON.stringify({
    mode,
    ...(mode === 'embedded' ? { dist } : {}),
    messages: MESSAGES,
    perSecond: Math.round(MESSAGES / seconds),
    brokerCpuUsPerMessage: Math.round((cpu / MESSAGES) * 1e6),
  }),
)
await publisher.endAsync()
await subscriber.endAsync()
await broker.stop()

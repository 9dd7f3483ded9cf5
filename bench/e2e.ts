/**
 * bench/e2e: from an MQTT trigger to the first command at a bulb, through a real mosquitto and the whole daemon
 * (MQTT connection, automation engine, gen-lock, sim bulb). Peer: a bare mqtt.js subscriber→publisher echo through
 * the same mosquitto, which is the floor any MQTT daemon sits on. Also: the daemon's RSS with 50 bulbs and
 * 20 automations, and its time from process start to ready.
 *
 *   npm run build && npm run bench -- e2e
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type MqttClient } from 'mqtt'
import { Daemon } from '../src/daemon/index.js'
import type { SimBulb } from '../src/devices/index.js'
import { freePort, ServiceProcess } from '../test/support/services.js'

const TRIGGERS = 1000
/** A small young generation: the daemon allocates little once started, so V8's default 16 MB semispaces are slack. */
const SMALL_SEMI_SPACE_MB = 2

/**
 * A real mosquitto on a free port. `nodelay` turns on its `set_tcp_nodelay`: by default mosquitto leaves Nagle's
 * algorithm on, so a small packet written while an earlier one is unacknowledged waits for the peer's delayed
 * ACK (~40 ms on Linux).
 */
async function startBroker(nodelay: boolean): Promise<ServiceProcess & { url: string }> {
  const port = await freePort()
  const service = new ServiceProcess(
    'mosquitto',
    port,
    'mosquitto',
    (dir) => {
      const conf = join(dir, 'mosquitto.conf')
      const lines = [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        `set_tcp_nodelay ${nodelay}`,
        'log_dest stderr',
      ]
      writeFileSync(conf, `${lines.join('\n')}\n`)
      return ['-c', conf]
    },
    /mosquitto version .* running/,
  )
  await service.start()
  return Object.assign(service, { url: `mqtt://127.0.0.1:${port}` })
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
}

function summary(values: readonly number[]): { median: number; p99: number } {
  return { median: percentile(values, 50), p99: percentile(values, 99) }
}

async function client(url: string, clientId: string): Promise<MqttClient> {
  const c = connect(url, { clientId })
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => {
      // Same as the daemon's connection: without it Nagle holds small packets back and the peer looks slow.
      ;(c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true)
      resolve()
    })
    c.once('error', reject)
  })
  return c
}

/** Peer: publish on echo/in, a bare client answers on echo/out; time to see the answer. */
async function echoPeer(url: string, count = TRIGGERS): Promise<number[]> {
  const echo = await client(url, 'bench-echo')
  await echo.subscribeAsync('echo/in', { qos: 1 })
  echo.on('message', (_topic, payload) => echo.publish('echo/out', payload, { qos: 1 }))
  const sender = await client(url, 'bench-echo-sender')
  await sender.subscribeAsync('echo/out', { qos: 1 })
  const times: number[] = []
  for (let i = 0; i < count + 50; i++) {
    const answered = new Promise<void>((resolve) => sender.once('message', () => resolve()))
    const start = performance.now()
    sender.publish('echo/in', String(i), { qos: 1 })
    await answered
    if (i >= 50) times.push(performance.now() - start)
  }
  await echo.endAsync()
  await sender.endAsync()
  return times
}

function setupDir(url: string, bulbs: number, automations: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'genlock-bench-'))
  mkdirSync(join(dir, 'devices'))
  mkdirSync(join(dir, 'automations'))
  writeFileSync(
    join(dir, 'config.yaml'),
    `mqtt: { url: "${url}", client_id: bench-${Math.random().toString(16).slice(2)} }\nlog: { level: warn, pretty: false }\n`,
  )
  for (let i = 0; i < bulbs; i++) writeFileSync(join(dir, 'devices', `bulb_${i}.yaml`), `id: bulb_${i}\nadapter: sim\n`)
  for (const [name, text] of Object.entries(automations)) writeFileSync(join(dir, 'automations', `${name}.yaml`), text)
  return join(dir, 'config.yaml')
}

/** A one-step automation on bulb_0: each trigger sets the brightness carried in the payload. */
const ping = `name: ping
priority: 0
devices: [bulb_0]
mode: restart
trigger:
  - mqtt: bench/ping
steps:
  - set: { brightness: "{{ trigger.json.b }}" }
`

/** A party that keeps bulb_0 busy, and an alarm that preempts it on every trigger. */
const party = `name: party
priority: 0
devices: [bulb_0]
on_preempt: resume
trigger:
  - mqtt: bench/party
    payload: "ON"
stop:
  - mqtt: bench/party
    payload: "OFF"
steps:
  - repeat:
      forever: true
      steps:
        - set: { color: red }
        - wait: 10s
`
const alarm = `name: alarm
priority: 200
devices: [bulb_0]
mode: restart
trigger:
  - mqtt: bench/alarm
steps:
  - set: { color: blue, brightness: "{{ trigger.json.b }}" }
`

/** Trigger → first command at the sim bulb, in-process daemon, real mosquitto. */
async function triggerToCommand(url: string, automations: Record<string, string>, topic: string, before?: string) {
  const daemon = await Daemon.start(setupDir(url, 1, automations))
  const bulb = daemon.devices.get('bulb_0') as SimBulb
  const sender = await client(url, `bench-sender-${topic.replace('/', '-')}`)
  /** Resolves when the party holds the bulb again: before each alarm, so every alarm really preempts it. */
  const partyHolds = () =>
    new Promise<void>((resolve) => {
      const off = daemon.locks.protocol.on((event) => {
        if (event.type === 'acquired' && event.lockerGuid === 'automation:party') {
          off()
          resolve()
        }
      })
    })
  if (before) {
    const started = partyHolds()
    sender.publish(before, 'ON', { qos: 1 })
    await started
  }
  const times: number[] = []
  for (let i = 0; i < TRIGGERS + 50; i++) {
    const partyBack = before ? partyHolds() : undefined
    const b = (i % 99) + 1
    const commanded = bulb.nextCommand((entry) => entry.command.brightness === b)
    const start = performance.now()
    sender.publish(topic, JSON.stringify({ b }), { qos: 1 })
    await commanded
    if (i >= 50) times.push(performance.now() - start)
    await partyBack
  }
  await sender.endAsync()
  await daemon.stop()
  return times
}

/** Spawns `genlock run` on 50 bulbs and 20 automations; time to its ready line, and its RSS then. */
async function daemonFootprint(
  url: string,
  nodeFlags: string[] = [],
): Promise<{ readyMs: number; startMs: number; rssMb: number }> {
  const automations: Record<string, string> = {}
  for (let i = 0; i < 20; i++) {
    automations[`a${i}`] = party
      .replace('name: party', `name: a${i}`)
      .replace('[bulb_0]', `[bulb_${i}, bulb_${i + 20}]`)
      .replace(/bench\/party/g, `bench/a${i}`)
  }
  const configFile = setupDir(url, 50, automations)
  const cli = join(import.meta.dirname, '../dist/cli/index.js')
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first (the daemon runs as built code)`)
  const start = performance.now()
  const child = spawn(process.execPath, [...nodeFlags, cli, 'run', '--config', configFile, '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let output = ''
  let startMs = Number.NaN
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const ready = output.split('\n').find((line) => line.includes('"genlock ready"'))
      if (ready) {
        startMs = (JSON.parse(ready) as { ms: number }).ms
        resolve()
      }
    })
    child.once('exit', (code) => reject(new Error(`daemon exited with ${code}:\n${output}`)))
  })
  const readyMs = performance.now() - start
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1])
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
  return { readyMs, startMs, rssMb: rssKb / 1024 }
}

const SPAWNS = 5

/** {@link daemonFootprint} `SPAWNS` times (this machine is shared, so one start is noisy); medians and bests. */
async function footprints(url: string, nodeFlags: string[]) {
  const runs: Awaited<ReturnType<typeof daemonFootprint>>[] = []
  for (let i = 0; i < SPAWNS; i++) runs.push(await daemonFootprint(url, nodeFlags))
  const pick = (key: 'readyMs' | 'startMs' | 'rssMb') => ({
    median: percentile(
      runs.map((r) => r[key]),
      50,
    ),
    best: Math.min(...runs.map((r) => r[key])),
  })
  return { readyMs: pick('readyMs'), startMs: pick('startMs'), rssMb: pick('rssMb') }
}

const fmt = (ms: number) => `${ms.toFixed(3)} ms`

const DEFAULT_CONFIG_PEER_ROUNDS = 200

async function main() {
  const fast = await startBroker(true)
  const plain = await startBroker(false)
  try {
    const peer = summary(await echoPeer(fast.url))
    const trigger = summary(await triggerToCommand(fast.url, { ping }, 'bench/ping'))
    const preempt = summary(await triggerToCommand(fast.url, { party, alarm }, 'bench/alarm', 'bench/party'))
    const plainPeer = summary(await echoPeer(plain.url, DEFAULT_CONFIG_PEER_ROUNDS))
    const plainTrigger = summary(await triggerToCommand(plain.url, { ping }, 'bench/ping'))
    const plainPreempt = summary(await triggerToCommand(plain.url, { party, alarm }, 'bench/alarm', 'bench/party'))
    const footprint = await footprints(fast.url, [])
    const small = await footprints(fast.url, [`--max-semi-space-size=${SMALL_SEMI_SPACE_MB}`])

    const row = (
      name: string,
      r: { median: number; p99: number },
      base: { median: number },
      goal = '< 3 ms / < 10 ms',
    ) =>
      console.log(`| ${name} | ${fmt(r.median)} | ${fmt(r.p99)} | ${goal} | ${(r.median / base.median).toFixed(2)}× |`)
    console.log(`## e2e\n`)
    console.log(`date: ${new Date().toISOString()}`)
    console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`)
    console.log(`real mosquitto on 127.0.0.1, QoS 1, triggers sent one at a time\n`)
    console.log('| mosquitto `set_tcp_nodelay true` | median | p99 | goal | median vs peer |')
    console.log('|---|---|---|---|---|')
    row(`peer: bare mqtt.js echo, publish → answer (${TRIGGERS})`, peer, peer, '—')
    row(`trigger → first command at the sim bulb (${TRIGGERS})`, trigger, peer)
    row(`alarm trigger preempting a running party → first alarm command (${TRIGGERS})`, preempt, peer)
    console.log('\n| mosquitto default config (Nagle on) | median | p99 | goal | median vs peer |')
    console.log('|---|---|---|---|---|')
    row(`peer: bare mqtt.js echo, publish → answer (${DEFAULT_CONFIG_PEER_ROUNDS})`, plainPeer, plainPeer, '—')
    row(`trigger → first command at the sim bulb (${TRIGGERS})`, plainTrigger, plainPeer)
    row(`alarm trigger preempting a running party → first alarm command (${TRIGGERS})`, plainPreempt, plainPeer)
    const both = (v: { median: number; best: number }, unit: string, digits = 0) =>
      `${v.median.toFixed(digits)} ${unit} | ${v.best.toFixed(digits)} ${unit}`
    console.log(`\n| daemon process, 50 bulbs + 20 automations (${SPAWNS} starts) | median | best | goal |`)
    console.log('|---|---|---|---|')
    console.log(`| start → ready (process spawn to "genlock ready") | ${both(footprint.readyMs, 'ms')} | < 1000 ms |`)
    console.log(`| … of which Daemon.start (config read → ready) | ${both(footprint.startMs, 'ms')} | — |`)
    console.log(`| RSS when ready | ${both(footprint.rssMb, 'MB', 1)} | < 80 MB |`)
    console.log(
      `| RSS when ready, node --max-semi-space-size=${SMALL_SEMI_SPACE_MB} | ${both(small.rssMb, 'MB', 1)} | < 80 MB |`,
    )
    console.log(
      `| start → ready, node --max-semi-space-size=${SMALL_SEMI_SPACE_MB} | ${both(small.readyMs, 'ms')} | < 1000 ms |`,
    )
  } finally {
    await Promise.all([fast.dispose(), plain.dispose()])
  }
}

await main()

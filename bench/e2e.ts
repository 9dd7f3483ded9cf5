/**
 * bench/e2e: an MQTT trigger → the first bulb command, for genlock and for Node-RED 4 doing the same job, in the
 * same run, on the same real mosquitto: first with its default configuration (as most homes run it: Nagle's
 * algorithm on), then with `set_tcp_nodelay true`.
 *
 * The bulbs are Zigbee2MQTT lights played by the bench itself: the clock starts when the bench publishes the
 * trigger and stops when the light receives its command on `zigbee2mqtt/<light>/set`, so both subjects do the same
 * two broker hops. Like Zigbee2MQTT with its defaults, each light answers a command with its state at QoS 0. genlock: `genlock run` from dist/ with the node flags the image ships,
 * default settings (log level info); its automation sets the light from the trigger's payload (MQTT trigger →
 * engine → gen-lock → the light's command queue → Zigbee2MQTT command). Node-RED 4.1.8 (installed for this run):
 * `mqtt in` → `function` (the same Zigbee2MQTT command) → `mqtt out`, its nodes at the editor's defaults (in QoS 2,
 * out QoS 0), plain `node red.js` as its launcher runs it. Triggers go one at a time, alternating between the
 * subjects, so a busy moment on this shared machine hits both alike. Each case has a second row for the part the
 * subject itself adds (bench/support/socket-timing.ts, loaded into both): from the trigger read off its socket to
 * the command written to it.
 *
 *   npm run build && npm run bench -- e2e
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { connect, type MqttClient } from 'mqtt'
import { percentToZigbee } from '../src/devices/mqtt/zigbee2mqtt.js'
import { freePort, startDefaultMosquitto, type ServiceProcess } from '../test/support/services.js'
import { percentile } from './stats.js'
import { installNodeRed, NODE_RED, nodeRedBroker, writeNodeRedUserDir } from './support/node-red.js'
import { shippedNodeFlags } from './support/shipped-flags.js'

/** Triggers per case, after WARM_UP; BENCH_E2E_TRIGGERS overrides it for a quick look. */
const TRIGGERS = Number(process.env.BENCH_E2E_TRIGGERS ?? 1000)
const WARM_UP = 50

const repo = process.cwd()
const cli = join(repo, 'dist/cli/index.js')
const scratch = mkdtempSync(join(tmpdir(), 'genlock-bench-e2e-'))
/** Where each subject's socket-timing file goes: `<pid>.json`. */
const timings = join(scratch, 'timings')
const socketTiming = join(repo, 'bench/support/socket-timing.ts')
mkdirSync(timings)

/** The light each subject commands: genlock's plain trigger, genlock's preemption case, Node-RED. */
const LIGHTS = { genlock: 'light_1', preempt: 'light_2', nodeRed: 'light_3' } as const

/** genlock's setup: the two lights, a one-step automation, and a party that an alarm preempts on every trigger. */
function writeGenlockHome(url: string): string {
  const dir = join(scratch, `genlock-${Math.random().toString(16).slice(2)}`)
  mkdirSync(join(dir, 'devices'), { recursive: true })
  mkdirSync(join(dir, 'automations'))
  for (const light of [LIGHTS.genlock, LIGHTS.preempt])
    writeFileSync(join(dir, 'devices', `${light}.yaml`), `id: ${light}\nadapter: mqtt\ntopic: zigbee2mqtt/${light}\n`)
  const automations: Record<string, string> = {
    ping: `name: ping
priority: 0
devices: [${LIGHTS.genlock}]
mode: restart
trigger:
  - mqtt: bench/genlock
steps:
  - set: { on: true, brightness: "{{ trigger.json.b }}" }
`,
    party: `name: party
priority: 0
devices: [${LIGHTS.preempt}]
on_preempt: resume
trigger:
  - mqtt: bench/party
    payload: "ON"
steps:
  - repeat:
      forever: true
      steps:
        - set: { color: red }
        - wait: 10s
`,
    alarm: `name: alarm
priority: 200
devices: [${LIGHTS.preempt}]
mode: restart
trigger:
  - mqtt: bench/alarm
steps:
  - set: { brightness: "{{ trigger.json.b }}" }
`,
  }
  for (const [name, text] of Object.entries(automations)) writeFileSync(join(dir, 'automations', `${name}.yaml`), text)
  // Everything else on the defaults, as a user runs it (log level info, Home Assistant discovery on).
  writeFileSync(
    join(dir, 'config.yaml'),
    `mqtt: { url: "${url}", base_topic: bench, client_id: bench-genlock }\ndevices: ./devices\nautomations: ./automations\n`,
  )
  return join(dir, 'config.yaml')
}

/** Node-RED's flow: mqtt in bench/node-red → function (the Zigbee2MQTT command) → mqtt out. */
function nodeRedFlows(brokerPort: number): object[] {
  return [
    { id: 'bench', type: 'tab', label: 'bench' },
    nodeRedBroker('broker', brokerPort),
    {
      id: 'in',
      type: 'mqtt in',
      z: 'bench',
      topic: 'bench/node-red',
      qos: '2',
      datatype: 'json',
      broker: 'broker',
      nl: false,
      rap: true,
      inputs: 0,
      wires: [['command']],
    },
    {
      id: 'command',
      type: 'function',
      z: 'bench',
      name: 'light command',
      func: `msg.topic = 'zigbee2mqtt/${LIGHTS.nodeRed}/set'\nmsg.payload = { state: 'ON', brightness: Math.min(254, Math.max(1, Math.round(msg.payload.b * 254 / 100))) }\nreturn msg`,
      outputs: 1,
      wires: [['out']],
    },
    { id: 'out', type: 'mqtt out', z: 'bench', topic: '', qos: '', retain: '', broker: 'broker', wires: [] },
  ]
}

/**
 * Spawns `node <args>` with bench/support/socket-timing.ts loaded (timing `pairs`, see there) and resolves once
 * its stdout has matched every pattern; its output is drained after.
 */
async function startProcess(
  name: string,
  args: string[],
  ready: RegExp[],
  pairs: [string, string][],
): Promise<ChildProcess> {
  const env = { ...process.env, BENCH_SOCKET_TIMING: JSON.stringify({ out: timings, pairs }) }
  const child = spawn(process.execPath, ['--import', socketTiming, ...args], {
    cwd: scratch,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const waiting = new Set(ready)
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      for (const pattern of waiting) if (pattern.test(output)) waiting.delete(pattern)
      if (waiting.size > 0) return
      output = ''
      resolve()
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${output}`)))
  })
  child.stdout.removeAllListeners('data').resume()
  child.stderr.removeAllListeners('data').resume()
  return child
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

/** The bench's own MQTT client, with TCP_NODELAY on its socket so its own writes are never what waits. */
async function benchClient(url: string, clientId: string): Promise<MqttClient> {
  const client = connect(url, { clientId })
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => {
      ;(client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true)
      resolve()
    })
    client.once('error', reject)
  })
  return client
}

/** Zigbee2MQTT lights, as the bench plays them: the commands they receive, as they arrive. */
interface BenchLights {
  /** Calls `listener` with each command and the time it arrived; returns how to stop listening. */
  onCommand(listener: (light: string, command: Record<string, unknown>, at: number) => void): () => void
  stop(): Promise<void>
}

/**
 * `names` as Zigbee2MQTT lights on one connection: each takes commands on `zigbee2mqtt/<name>/set` (subscribed at
 * QoS 1, as Zigbee2MQTT does) and answers with its state on `zigbee2mqtt/<name>` at QoS 0, Zigbee2MQTT's default.
 * Not src/simulators/zigbee2mqtt-lights.ts: that one publishes its state at QoS 1, and on a default mosquitto the
 * PUBACKs the broker writes back to it hold the next command back by ~40 ms (Nagle's algorithm against a delayed
 * ACK), which would be the simulator's delay, not the subjects'.
 */
async function benchLights(url: string, names: readonly string[]): Promise<BenchLights> {
  const client = await benchClient(url, 'bench-zigbee2mqtt')
  const listeners = new Set<(light: string, command: Record<string, unknown>, at: number) => void>()
  const states = new Map(names.map((name) => [name, { state: 'OFF', brightness: 254 } as Record<string, unknown>]))
  client.on('message', (topic, payload) => {
    const at = performance.now()
    const name = topic.slice('zigbee2mqtt/'.length, -'/set'.length)
    const command = JSON.parse(payload.toString()) as Record<string, unknown>
    for (const listener of [...listeners]) listener(name, command, at)
    const state = { ...states.get(name), ...command }
    states.set(name, state)
    client.publish(`zigbee2mqtt/${name}`, JSON.stringify(state), { qos: 0 })
  })
  for (const name of names) {
    await client.publishAsync(`zigbee2mqtt/${name}/availability`, '{"state":"online"}', { qos: 1, retain: true })
    await client.publishAsync(`zigbee2mqtt/${name}`, JSON.stringify(states.get(name)), { qos: 0, retain: true })
  }
  await client.subscribeAsync('zigbee2mqtt/+/set', { qos: 1 })
  return {
    onCommand(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async stop() {
      await client.endAsync()
    },
  }
}

/** Resolves at the next command `light` receives whose brightness is `level`, with the time it arrived. */
function commandAt(lights: BenchLights, light: string, level: number): Promise<number> {
  return new Promise((resolve) => {
    const off = lights.onCommand((name, command, at) => {
      if (name !== light || command.brightness !== level) return
      off()
      resolve(at)
    })
  })
}

/** Follows genlock's retained `bench/automation/party` topic: how many times the party has (re)started running. */
async function partyRunning(
  url: string,
): Promise<{ count: () => number; after: (n: number) => Promise<void>; stop: () => Promise<void> }> {
  const client = await benchClient(url, 'bench-party-watch')
  let count = 0
  let last = ''
  const waiters = new Set<() => void>()
  client.on('message', (_topic, payload) => {
    const state = (JSON.parse(payload.toString()) as { state: string }).state
    if (state === 'running' && last !== 'running') count++
    last = state
    for (const waiter of [...waiters]) waiter()
  })
  await client.subscribeAsync('bench/automation/party', { qos: 1 })
  return {
    count: () => count,
    stop: () => client.endAsync(),
    after: (n) =>
      new Promise((resolve) => {
        const check = () => {
          if (count <= n) return
          waiters.delete(check)
          resolve()
        }
        waiters.add(check)
        check()
      }),
  }
}

interface Case {
  /** Publishes the trigger for percent `b` and resolves with when the light got the command. */
  readonly trigger: (b: number) => Promise<number>
  readonly times: number[]
}

/** Runs `cases` one trigger at a time, alternating between them, WARM_UP + TRIGGERS rounds. */
async function alternate(cases: Case[]): Promise<void> {
  for (let i = 0; i < WARM_UP + TRIGGERS; i++) {
    const b = (i % 99) + 1
    for (const subject of cases) {
      const start = performance.now()
      const at = await subject.trigger(b)
      if (i >= WARM_UP) subject.times.push(at - start)
    }
  }
}

interface Times {
  qos0: number[]
  qos1: number[]
  preempt: number[]
}

interface BrokerResult {
  /** Trigger published → command at the light, ms. */
  readonly genlock: Times
  readonly nodeRed: Times
  /** Inside each subject: trigger read off its socket → command written to it, ms (socket-timing.ts). */
  readonly inside: { genlock: Times; nodeRed: Times }
}

/** What socket-timing.ts wrote for the process `pid`, per case, warm-up dropped: ms inside the subject. */
function insideTimes(pid: number | undefined, topics: { plain: string; preempt?: string }): Times {
  const file = join(timings, `${pid}.json`)
  const written = JSON.parse(readFileSync(file, 'utf8')) as Record<string, [number, number, number][]>
  const durations = (topic: string | undefined, qos: number) =>
    (topic === undefined ? [] : (written[topic] ?? []))
      .filter(([q]) => q === qos)
      .slice(WARM_UP)
      .map(([, read, sent]) => (sent - read) / 1000)
  return { qos0: durations(topics.plain, 0), qos1: durations(topics.plain, 1), preempt: durations(topics.preempt, 0) }
}

/** Every case on one broker: genlock and Node-RED at trigger QoS 0 and 1, then genlock's preemption. */
async function measure(broker: ServiceProcess & { url: string }, redJs: string): Promise<BrokerResult> {
  const lights = await benchLights(broker.url, Object.values(LIGHTS))
  const sender = await benchClient(broker.url, 'bench-sender')
  let genlock: ChildProcess | undefined
  let nodeRed: ChildProcess | undefined
  // Ended with the others: left open, it reconnects to the stopped broker forever and the bench never exits.
  let party: Awaited<ReturnType<typeof partyRunning>> | undefined
  const genlockTimes: Times = { qos0: [], qos1: [], preempt: [] }
  const nodeRedTimes: Times = { qos0: [], qos1: [], preempt: [] }
  try {
    genlock = await startProcess(
      'genlock',
      [...shippedNodeFlags(repo), cli, 'run', '--config', writeGenlockHome(broker.url)],
      [/"msg":"genlock ready"/],
      [
        ['bench/genlock', `zigbee2mqtt/${LIGHTS.genlock}/set`],
        ['bench/alarm', `zigbee2mqtt/${LIGHTS.preempt}/set`],
      ],
    )
    const userDir = join(scratch, `node-red-${broker.port}`)
    const settings = writeNodeRedUserDir(userDir, nodeRedFlows(broker.port), await freePort())
    nodeRed = await startProcess(
      'Node-RED',
      [redJs, '--userDir', userDir, '--settings', settings],
      [/Started flows/, /Connected to broker/],
      [['bench/node-red', `zigbee2mqtt/${LIGHTS.nodeRed}/set`]],
    )
    const via = (topic: string, light: string, qos: 0 | 1) => (b: number) => {
      const arrived = commandAt(lights, light, percentToZigbee(b))
      sender.publish(topic, JSON.stringify({ b }), { qos })
      return arrived
    }
    for (const qos of [0, 1] as const) {
      const key = qos === 0 ? 'qos0' : 'qos1'
      await alternate([
        { trigger: via('bench/genlock', LIGHTS.genlock, qos), times: genlockTimes[key] },
        { trigger: via('bench/node-red', LIGHTS.nodeRed, qos), times: nodeRedTimes[key] },
      ])
    }
    // Preemption: every alarm takes the light from a running party; the next alarm waits until the party has it back.
    party = await partyRunning(broker.url)
    const watched = party
    sender.publish('bench/party', 'ON', { qos: 1 })
    await watched.after(0)
    const alarm = via('bench/alarm', LIGHTS.preempt, 0)
    await alternate([
      {
        trigger: async (b) => {
          const before = watched.count()
          const at = await alarm(b)
          await watched.after(before)
          return at
        },
        times: genlockTimes.preempt,
      },
    ])
  } finally {
    await Promise.all([stopProcess(genlock), stopProcess(nodeRed)])
    await party?.stop()
    await sender.endAsync()
    await lights.stop()
  }
  return {
    genlock: genlockTimes,
    nodeRed: nodeRedTimes,
    inside: {
      genlock: insideTimes(genlock?.pid, { plain: 'bench/genlock', preempt: 'bench/alarm' }),
      nodeRed: insideTimes(nodeRed?.pid, { plain: 'bench/node-red' }),
    },
  }
}

const ms = (value: number) => `${value.toFixed(3)} ms`

function table(title: string, result: BrokerResult): void {
  const p = (values: number[], q: number) => percentile(values, q)
  const ratio = (ours: number[], peer: number[], q: number) =>
    peer.length === 0 ? '–' : `${(p(ours, q) / p(peer, q)).toFixed(2)}x`
  const peerMs = (values: number[], q: number) => (values.length === 0 ? '–' : ms(p(values, q)))
  const rows = (genlock: Times, nodeRed: Times, span: string) => {
    for (const qos of [0, 1] as const) {
      const ours = genlock[qos === 0 ? 'qos0' : 'qos1']
      const peer = nodeRed[qos === 0 ? 'qos0' : 'qos1']
      console.log(
        `| trigger QoS ${qos} → ${span} (${ours.length}) | ${ms(p(ours, 50))} | ${ms(p(ours, 99))} | ${peerMs(peer, 50)} | ${peerMs(peer, 99)} | ${ratio(ours, peer, 50)} | ${ratio(ours, peer, 99)} |`,
      )
    }
    const preempt = genlock.preempt
    console.log(
      `| alarm (QoS 0) preempting a running party → ${span} (${preempt.length}) | ${ms(p(preempt, 50))} | ${ms(p(preempt, 99))} | – | – | – | – |`,
    )
  }
  console.log(
    `\n| ${title} | genlock p50 | genlock p99 | Node-RED p50 | Node-RED p99 | p50 genlock/Node-RED | p99 genlock/Node-RED |`,
  )
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  rows(result.genlock, result.nodeRed, 'first command at the light')
  // The part each subject itself adds: the rest of the row above is the broker, the bench and the machine.
  rows(result.inside.genlock, result.inside.nodeRed, 'command written, inside the subject')
}

async function main(): Promise<void> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first (genlock runs as built code)`)
  // `mosquitto -h` prints its version first and exits 3.
  const mosquittoVersion = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' }).stdout.split('\n')[0]
  const startLoad = loadavg().map((value) => value.toFixed(2))
  console.log(`date: ${new Date().toISOString()}`)
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${mosquittoVersion}`,
  )
  console.log(`load average at the start: ${startLoad.join(', ')}`)
  console.log(`genlock: node ${shippedNodeFlags(repo).join(' ')} dist/cli/index.js run; peer: ${NODE_RED}, plain node`)
  const redJs = installNodeRed(join(scratch, 'node-red-install'))
  const results: [string, BrokerResult][] = []
  try {
    for (const [title, tcpNoDelay] of [
      ['mosquitto default config (Nagle on)', false],
      ['mosquitto `set_tcp_nodelay true`', true],
    ] as const) {
      const broker = await startDefaultMosquitto({ tcpNoDelay })
      try {
        results.push([title, await measure(broker, redJs)])
      } finally {
        await broker.dispose()
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
  for (const [title, result] of results) table(title, result)
  console.log(
    `\nload average at the end: ${loadavg()
      .map((value) => value.toFixed(2))
      .join(', ')}`,
  )
}

await main()

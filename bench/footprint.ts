/**
 * bench/footprint: what genlock costs a Raspberry Pi, next to Node-RED doing the equivalent job.
 *
 * genlock runs 50 simulated bulbs and 20 automations (MQTT trigger → set two bulbs under their lock → publish an
 * MQTT reply) as its own process, from `dist/cli/index.js` as the image runs it (so `npm run build` first): on the
 * embedded defaults (broker inside the daemon) with the node flags the Dockerfile's ENTRYPOINT ships, the same with
 * plain `node`, and with the shipped flags on a real mosquitto. An esbuild bundle of src/ measured something that
 * does not ship: it hoists what `genlock run` loads only when the config needs it (prom-client, the dashboard's
 * libraries) into the one file, so it loaded ~90 modules and ~8 MB more than the daemon does.
 *
 * genlock keeps V8's compiled code on disk (src/cli/compile-cache.ts, NODE_COMPILE_CACHE): each genlock subject gets
 * a temp folder of its own, is started once with it empty (the first start after an install, reported on its own
 * row) and stopped, then started again for the measurements. Node-RED 4 runs 20 flows `mqtt in bench/in/<i>` →
 * `mqtt out bench/out/<i>` on the same mosquitto with plain `node red.js`, as its launcher does; it is installed
 * into a temporary folder for this run only (npm's cache makes later installs quick). Measured from outside,
 * through /proc: spawn → ready (the median of 5 starts), RSS once ready, CPU while idle, RSS after 10,000 triggers.
 *
 *   npx tsx bench/footprint.ts      (idle window 20 s after 12 s settling)
 *   FOOTPRINT_IDLE_S=60 FOOTPRINT_EXTRA_FLAGS=--lite-mode npx tsx bench/footprint.ts   (a full minute, and one
 *   more embedded genlock with other node flags)
 *   FOOTPRINT_METRICS=1 npx tsx bench/footprint.ts   (and one with the Prometheus metrics on, scraped every 15 s)
 *   FOOTPRINT_BASELINE=../main npx tsx bench/footprint.ts   (and one run from another checkout's dist/, which
 *   must be built: before/after)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { connect } from 'mqtt'
import { freePort, startMosquitto } from '../test/support/services.js'
import { installNodeRed, nodeRedBroker, writeNodeRedUserDir } from './support/node-red.js'
import { shippedNodeFlags } from './support/shipped-flags.js'
import { AUTOMATIONS, BULBS, writeFootprintSetup } from './support/footprint-setup.js'
import { median } from './stats.js'

/**
 * genlock and Node-RED share the mosquitto, so each answers on topics of its own: with the same topics, every
 * trigger sent to one was answered by both, and each figure counted the other's replies (and sent a new trigger
 * for each), which made genlock on mosquitto look 3.5-5x faster than on its embedded broker.
 */
const GENLOCK_TOPICS = 'bench'
const NODE_RED_TOPICS = 'red'
const TRIGGERS = 10_000
const IDLE_SECONDS = Number(process.env.FOOTPRINT_IDLE_S ?? 20)
const SETTLE_SECONDS = 12
/**
 * Starts per subject whose spawn → ready is reported as a median. One start moved by ±100 ms from run to run on
 * this 2-core machine kind (500 to 613 ms for the same build within an hour), more than any change it was to judge.
 */
const STARTS = 5
/** FOOTPRINT_METRICS=1 adds the shipped-flags embedded genlock with the Prometheus metrics on, scraped. */
const WITH_METRICS = process.env.FOOTPRINT_METRICS === '1'
const SCRAPE_SECONDS = 15
/** FOOTPRINT_BASELINE=<another checkout> adds a genlock run from that checkout's dist/ (e.g. main), with its flags. */
const BASELINE = process.env.FOOTPRINT_BASELINE

const repo = process.cwd()
const SHIPPED_FLAGS = shippedNodeFlags(repo)
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim())
const scratch = mkdtempSync(join(tmpdir(), 'genlock-footprint-'))

/**
 * A resident set split in two: pages of files (node's own binary and the shared libraries, which every node process
 * on the machine shares and the kernel can drop and read back) and anonymous pages (the heaps and stacks only this
 * process has).
 */
interface Resident {
  readonly total: number
  readonly file: number
  readonly anonymous: number
}

/** A process's resident set, in MB, from one read of /proc (so its parts belong to the same moment). */
function resident(pid: number): Resident {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const mb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]) / 1024
  return { total: mb('VmRSS'), file: mb('RssFile'), anonymous: mb('RssAnon') }
}

/** A bare node with `flags`, once started (an empty script kept alive): what any node program starts from. */
async function bareNodeResident(flags: string[]): Promise<Resident> {
  const child = spawn(process.execPath, [...flags, '-e', "console.log('up'); setInterval(() => {}, 60_000)"], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    await new Promise((resolve, reject) => {
      child.stdout.once('data', resolve)
      child.once('exit', reject)
    })
    return resident(child.pid!)
  } finally {
    child.kill()
  }
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}

/** A process under measurement. */
interface Subject {
  readonly name: string
  readonly child: ChildProcess
  readonly brokerUrl: string
  /** Triggers go to `<topics>/in/<i>`, replies come back on `<topics>/out/<i>`. */
  readonly topics: string
  /** Spawn → ready: the median of {@link STARTS} starts (see {@link startRepeatedly}). */
  readonly readyMs: number
  /** The slowest of those starts. */
  readonly slowestReadyMs: number
  /** What the process itself logged as its start time, if it does (median of the same starts). */
  readonly ownMs: number | undefined
  readonly residentReady: Resident
  /** Spawn → ready of a first start, with an empty compile cache (genlock subjects only). */
  coldReadyMs?: number
  rssBeforeTriggers?: number
  residentAfterTriggers?: Resident
  idleCpuPercent?: number
  triggersPerSecond?: number
}

/** Spawns `args` with node and resolves once a stdout line matches every pattern (in any order). */
async function startProcess(
  name: string,
  args: string[],
  ready: RegExp[],
  brokerUrl: string,
  cwd: string,
  topics = GENLOCK_TOPICS,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Subject> {
  const started = performance.now()
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const waiting = new Set(ready)
  let readyLine = ''
  await new Promise<void>((resolve, reject) => {
    let buffered = ''
    child.stdout.on('data', (chunk: Buffer) => {
      if (waiting.size === 0) return // keep draining the pipe so logging never blocks
      buffered += chunk.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        for (const pattern of waiting) {
          if (!pattern.test(line)) continue
          waiting.delete(pattern)
          readyLine = line
        }
      }
      if (waiting.size === 0) resolve()
    })
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${stderr}`)))
  })
  const readyMs = performance.now() - started
  // genlock's ready line carries how long Daemon.start took, without node's own start and module loading.
  const ownMs = readyLine.startsWith('{') ? (JSON.parse(readyLine) as { ms?: number }).ms : undefined
  return {
    name,
    child,
    brokerUrl,
    topics,
    readyMs,
    slowestReadyMs: readyMs,
    ownMs,
    residentReady: resident(child.pid!),
  }
}

/**
 * {@link STARTS} starts of one subject, one after another; all but the last are stopped once ready, and the last is
 * the one measured from then on. Its start figures are the medians (and the slowest) of all of them.
 */
async function startRepeatedly(start: () => Promise<Subject>): Promise<Subject> {
  const starts: Subject[] = []
  for (let i = 0; i < STARTS; i++) {
    const subject = await start()
    starts.push(subject)
    if (i < STARTS - 1) await stopProcess(subject)
  }
  const own = starts.flatMap((subject) => (subject.ownMs === undefined ? [] : [subject.ownMs]))
  return {
    ...starts.at(-1)!,
    readyMs: median(starts.map((subject) => subject.readyMs)),
    slowestReadyMs: Math.max(...starts.map((subject) => subject.readyMs)),
    ownMs: own.length === 0 ? undefined : median(own),
  }
}

async function stopProcess(subject: Subject): Promise<void> {
  if (subject.child.exitCode !== null || subject.child.signalCode !== null) return
  const exited = new Promise((resolve) => subject.child.once('exit', resolve))
  subject.child.kill('SIGTERM')
  await exited
}

/** Node-RED's user folder: settings and 20 flows mqtt in → mqtt out on `port`. */
function writeNodeRedSetup(dir: string, brokerPort: number, uiPort: number): string {
  const flows: object[] = [{ id: 'bench', type: 'tab', label: 'bench' }, nodeRedBroker('broker', brokerPort)]
  for (let i = 0; i < AUTOMATIONS; i++) {
    flows.push(
      {
        id: `in${i}`,
        type: 'mqtt in',
        z: 'bench',
        topic: `${NODE_RED_TOPICS}/in/${i}`,
        qos: '1',
        datatype: 'auto-detect',
        broker: 'broker',
        nl: false,
        rap: true,
        inputs: 0,
        wires: [[`out${i}`]],
      },
      {
        id: `out${i}`,
        type: 'mqtt out',
        z: 'bench',
        topic: `${NODE_RED_TOPICS}/out/${i}`,
        qos: '1',
        retain: 'false',
        broker: 'broker',
        wires: [],
      },
    )
  }
  return writeNodeRedUserDir(dir, flows, uiPort)
}

/**
 * Sends TRIGGERS triggers, one in flight per automation, and resolves once every reply has come back. Fails on a
 * reply without a trigger in flight for it (someone else answering on the same topics).
 */
async function drive(subject: Subject): Promise<void> {
  const { topics } = subject
  const client = connect(subject.brokerUrl, { clientId: `footprint-${subject.child.pid}` })
  let ending = false
  client.on('error', (error) => ending || console.error(`bench client: ${error.message}`))
  await new Promise<void>((resolve) => client.once('connect', () => resolve()))
  await client.subscribeAsync(`${topics}/out/+`, { qos: 1 })
  let sent = 0
  let received = 0
  const inFlight = new Array<boolean>(AUTOMATIONS).fill(false)
  const started = performance.now()
  await new Promise<void>((resolve, reject) => {
    const send = (i: number) => {
      if (sent >= TRIGGERS) return
      sent++
      inFlight[i] = true
      client.publish(`${topics}/in/${i}`, 'ON', { qos: 1 })
    }
    client.on('message', (topic) => {
      const i = Number(topic.slice(`${topics}/out/`.length))
      if (!inFlight[i]) {
        client.removeAllListeners('message')
        reject(new Error(`${subject.name}: a reply on ${topic} without a trigger: another subscriber answers`))
        return
      }
      inFlight[i] = false
      received++
      if (received < TRIGGERS) send(i)
      else if (received === TRIGGERS) {
        client.removeAllListeners('message')
        resolve()
      }
    })
    for (let i = 0; i < AUTOMATIONS; i++) send(i)
  })
  subject.triggersPerSecond = TRIGGERS / ((performance.now() - started) / 1000)
  ending = true
  await client.endAsync()
}

/** Waits `seconds` and records each subject's CPU use over that time, as % of one core. */
async function idleWindow(subjects: Subject[], seconds: number): Promise<void> {
  const before = subjects.map((subject) => cpuSeconds(subject.child.pid!))
  const started = performance.now()
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  const elapsed = (performance.now() - started) / 1000
  subjects.forEach((subject, i) => {
    subject.idleCpuPercent = ((cpuSeconds(subject.child.pid!) - before[i]!) / elapsed) * 100
  })
}

/** How long a bare `node -e ''` takes from spawn to exit here, ms (median of 5): how busy the machine is. */
function bareNodeMs(): number {
  const times = Array.from({ length: 5 }, () => {
    const started = performance.now()
    execFileSync(process.execPath, ['-e', ''])
    return performance.now() - started
  })
  return times.sort((a, b) => a - b)[2]!
}

/** `<checkout>/dist/cli/index.js`, what the image runs; the checkout must have been built (`npm run build`). */
function builtCli(checkout: string): string {
  const cli = join(checkout, 'dist/cli/index.js')
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` in ${checkout} first`)
  return cli
}

async function main(): Promise<void> {
  console.log(`genlock vs Node-RED: ${BULBS} bulbs, ${AUTOMATIONS} automations/flows, ${TRIGGERS} triggers`)
  console.log(`load average ${loadavg()[0]!.toFixed(1)}; bare node spawn → exit ${Math.round(bareNodeMs())} ms`)
  const bare = await bareNodeResident(SHIPPED_FLAGS)
  console.log(
    `bare node (${SHIPPED_FLAGS.join(' ')}), once started: RSS ${bare.total.toFixed(1)} MB, of which file pages ` +
      `${bare.file.toFixed(1)} MB and anonymous ${bare.anonymous.toFixed(1)} MB`,
  )
  const genlock = builtCli(repo)
  const metricsBundle = join(repo, '.bench-build/footprint/metrics-daemon.mjs')
  if (WITH_METRICS) {
    await build({
      entryPoints: [join(repo, 'bench/support/metrics-daemon.ts')],
      outfile: metricsBundle,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'warning',
    })
  }
  const baseline = BASELINE ? builtCli(BASELINE) : undefined
  const redJs = installNodeRed(join(scratch, 'node-red-install'))
  const mosquitto = await startMosquitto()
  const subjects: Subject[] = []
  let scraper: NodeJS.Timeout | undefined
  try {
    const flags = SHIPPED_FLAGS.join(' ')
    /**
     * A genlock subject: a first start with an empty compile cache (its time kept as `coldReadyMs`), stopped once
     * ready, then the starts that are measured, with the cache the first one left.
     */
    const genlockSubject = async (name: string, cli: string, nodeFlags: string[], mqtt: string, brokerUrl: string) => {
      const dir = join(scratch, `genlock-${subjects.length}`)
      const config = writeFootprintSetup(dir, mqtt)
      const args = [...nodeFlags, cli, 'run', '--config', config]
      // A cache folder of its own, empty at the first start (TMPDIR too: a baseline checkout may keep it there).
      const tmp = join(dir, 'tmp')
      mkdirSync(tmp)
      const env = { ...process.env, TMPDIR: tmp, NODE_COMPILE_CACHE: join(tmp, 'compile') }
      const cold = await startProcess(name, args, [/"msg":"genlock ready"/], brokerUrl, scratch, GENLOCK_TOPICS, env)
      await stopProcess(cold)
      const subject = await startRepeatedly(() =>
        startProcess(name, args, [/"msg":"genlock ready"/], brokerUrl, scratch, GENLOCK_TOPICS, env),
      )
      subject.coldReadyMs = cold.readyMs
      return subject
    }
    const embedded = async (name: string, cli: string, nodeFlags: string[]) => {
      const port = await freePort()
      return genlockSubject(name, cli, nodeFlags, `{ embedded: true, port: ${port} }`, `mqtt://127.0.0.1:${port}`)
    }
    subjects.push(await embedded(`genlock, embedded broker, node ${flags}`, genlock, SHIPPED_FLAGS))
    if (baseline) {
      // As that checkout ships: its own Dockerfile's flags.
      const baselineFlags = shippedNodeFlags(BASELINE!)
      const name = `genlock of ${BASELINE}, embedded broker, node ${baselineFlags.join(' ')}`
      subjects.push(await embedded(name, baseline, baselineFlags))
    }
    if (WITH_METRICS) {
      const port = await freePort()
      const httpPort = await freePort()
      const config = writeFootprintSetup(join(scratch, 'genlock-metrics'), `{ embedded: true, port: ${port} }`)
      const args = [...SHIPPED_FLAGS, metricsBundle, config, String(httpPort)]
      const name = `genlock, embedded broker, node ${flags}, /metrics scraped every ${SCRAPE_SECONDS} s`
      subjects.push(await startProcess(name, args, [/"msg":"genlock ready"/], `mqtt://127.0.0.1:${port}`, scratch))
      // As Prometheus would: every 15 s, through the idle window and the burst.
      const scrape = () => fetch(`http://127.0.0.1:${httpPort}/metrics`).then((response) => response.text())
      await scrape()
      scraper = setInterval(
        () => void scrape().catch((error: Error) => console.error(error.message)),
        SCRAPE_SECONDS * 1000,
      )
    }
    subjects.push(await embedded('genlock, embedded broker, plain node', genlock, []))
    const extra = process.env.FOOTPRINT_EXTRA_FLAGS?.split(' ').filter(Boolean) ?? []
    if (extra.length > 0) {
      subjects.push(await embedded(`genlock, embedded broker, node ${extra.join(' ')}`, genlock, extra))
    }
    subjects.push(
      await genlockSubject(
        `genlock, mosquitto, node ${flags}`,
        genlock,
        SHIPPED_FLAGS,
        `{ url: "${mosquitto.url}", base_topic: genlock_bench, client_id: genlock_bench }`,
        mosquitto.url,
      ),
    )
    const settings = writeNodeRedSetup(join(scratch, 'node-red'), mosquitto.port, await freePort())
    subjects.push(
      await startRepeatedly(() =>
        startProcess(
          'Node-RED 4.1.8, mosquitto, plain node',
          [redJs, '--userDir', join(scratch, 'node-red'), '--settings', settings],
          [/Started flows/, /Connected to broker/],
          mosquitto.url,
          scratch,
          NODE_RED_TOPICS,
        ),
      ),
    )
    // About 8–10 s after start-up V8's memory reducer runs one GC to give back start-up garbage (~90 ms of CPU
    // here). That is start-up cost, not idle cost: the window opens after it.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_SECONDS * 1000))
    console.log(`idle for ${IDLE_SECONDS} s ...`)
    await idleWindow(subjects, IDLE_SECONDS)
    for (const subject of subjects) {
      subject.rssBeforeTriggers = resident(subject.child.pid!).total
      await drive(subject)
      subject.residentAfterTriggers = resident(subject.child.pid!)
    }
  } finally {
    clearInterval(scraper)
    await Promise.all(subjects.map(stopProcess))
    await mosquitto.dispose()
    rmSync(scratch, { recursive: true, force: true })
  }
  report(subjects)
  console.log(`\nload average at the end ${loadavg()[0]!.toFixed(1)}`)
}

function report(subjects: Subject[]): void {
  const shipped = subjects[0]!
  const [external, nodeRed] = subjects.slice(-2) as [Subject, Subject]
  const growth = (s: Subject) =>
    ((s.residentAfterTriggers!.total - s.residentReady.total) / s.residentReady.total) * 100
  const rows: [string, (s: Subject) => number, number, string, (v: number) => boolean][] = [
    ['start → ready, first start (empty compile cache), ms', (s) => s.coldReadyMs ?? Number.NaN, 0, '', () => true],
    [`start → ready, median of ${STARTS} starts, ms`, (s) => s.readyMs, 0, '<= 500', (v) => v <= 500],
    [`  the slowest of the ${STARTS}, ms`, (s) => s.slowestReadyMs, 0, '', () => true],
    ['  of which Daemon.start (its log), ms', (s) => s.ownMs ?? Number.NaN, 0, '', () => true],
    ['RSS once ready, MB', (s) => s.residentReady.total, 1, '<= 60', (v) => v <= 60],
    ['  of which file pages (node binary, libraries), MB', (s) => s.residentReady.file, 1, '', () => true],
    ['  of which anonymous (heaps, stacks), MB', (s) => s.residentReady.anonymous, 1, '', () => true],
    [`CPU idle ${IDLE_SECONDS} s, % of a core`, (s) => s.idleCpuPercent!, 2, '< 1', (v) => v < 1],
    ['RSS after idle, before triggers, MB', (s) => s.rssBeforeTriggers!, 1, '', () => true],
    [
      `RSS after ${TRIGGERS.toLocaleString('en')} triggers, MB`,
      (s) => s.residentAfterTriggers!.total,
      1,
      '',
      () => true,
    ],
    ['  of which file pages, MB', (s) => s.residentAfterTriggers!.file, 1, '', () => true],
    ['  of which anonymous, MB', (s) => s.residentAfterTriggers!.anonymous, 1, '', () => true],
    ['RSS growth from ready, %', growth, 1, '<= 10', (v) => v <= 10],
    ['triggers per second', (s) => s.triggersPerSecond!, 0, '', () => true],
  ]
  console.log(
    `\n| measure | ${subjects.map((s) => s.name).join(' | ')} | genlock/Node-RED, both on mosquitto | goal (first column) |`,
  )
  console.log(`|---|${subjects.map(() => '---:|').join('')}---:|---|`)
  for (const [label, pick, digits, goal, met] of rows) {
    const cell = (s: Subject) =>
      Number.isNaN(pick(s))
        ? '–'
        : pick(s).toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    const ratio =
      pick(nodeRed) === 0 || Number.isNaN(pick(nodeRed)) ? '–' : `${(pick(external) / pick(nodeRed)).toFixed(2)}x`
    const verdict = goal === '' ? '' : `${goal}: ${met(pick(shipped)) ? 'met' : 'NOT met'}`
    console.log(`| ${label} | ${subjects.map(cell).join(' | ')} | ${ratio} | ${verdict} |`)
  }
}

await main()

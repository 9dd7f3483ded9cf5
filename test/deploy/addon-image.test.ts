import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectAsync } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { knownConfigKeys } from '../../src/cli/addon/genlock-config.js'
import { lookupUser } from '../../src/cli/addon/privileges.js'
import { Observer } from '../mqtt/observer.js'
import { freePort, type ServiceProcess } from '../support/services.js'
import { installedPackage } from '../e2e/support/installed-package.js'
import { ADDON_DIR, addonManifest, randomLogin, StandInSupervisor, startMosquittoWithLogin } from './addon-support.js'
import { commandWords, mapPaths, replayDockerfile, type ReplayedStage } from './dockerfile.js'

/**
 * The image's CMD runs the daemon as `node` (uid 1000 in node:26-bookworm-slim). This machine has no such user,
 * so the test swaps in `nobody`: the same switch from root to a user without a home or a shell.
 */
const DAEMON_USER = 'nobody'

let workspace: string
let image: ReplayedStage

beforeAll(async () => {
  workspace = mkdtempSync(join(tmpdir(), 'genlock-addon-image-'))
  // The daemon drops to an unprivileged user that must reach the installed package, as in the real image's /opt.
  chmodSync(workspace, 0o755)
  // The package as npm would publish it (npm pack of this checkout), built once per source state for every test file.
  const { tarball } = await installedPackage()
  const stages = await replayDockerfile(join(ADDON_DIR, 'Dockerfile'), ADDON_DIR, join(workspace, 'image'), {
    ...process.env,
    GENLOCK_PACKAGE: tarball,
  })
  image = stages.at(-1)!
}, 420_000)

afterAll(() => {
  if (workspace) rmSync(workspace, { recursive: true, force: true })
})

/** The Supervisor's mounts, fresh: /data with options.json (root's, 0600, as the Supervisor writes it) and /config. */
function mountFolders(options: Record<string, unknown> = {}): { data: string; config: string } {
  const data = join(image.root, 'data')
  const config = join(image.root, 'config')
  for (const dir of [data, config]) {
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { mode: 0o755 })
  }
  writeFileSync(join(data, 'options.json'), JSON.stringify({ ...addonManifest().options, ...options }), { mode: 0o600 })
  return { data, config }
}

/** The add-on container's process: the image's ENTRYPOINT and CMD, with the Supervisor's environment. */
class AddonProcess {
  stdout = ''
  stderr = ''
  readonly exited: Promise<number | null>
  private readonly child

  constructor(supervisor: { url: string; token: string }) {
    const cmd = (image.settings.get('CMD') ?? [])[0] ?? '[]'
    const words = [(image.settings.get('ENTRYPOINT') ?? [])[0] ?? '[]', cmd]
      .flatMap((part) => commandWords(part))
      .map((word) => mapPaths(image, word))
      .map((word, index, all) => (all[index - 1] === '--user' ? DAEMON_USER : word))
    const env = Object.fromEntries(Object.entries(image.env).map(([name, value]) => [name, mapPaths(image, value)]))
    this.child = spawn(words[0]!, words.slice(1), {
      cwd: mapPaths(image, image.workdir),
      env: {
        PATH: process.env.PATH,
        ...env,
        TZ: 'Europe/Amsterdam',
        SUPERVISOR_TOKEN: supervisor.token,
        HASSIO_TOKEN: supervisor.token,
        GENLOCK_SUPERVISOR_URL: supervisor.url,
      },
    })
    this.child.stdout.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()))
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()))
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)))
  }

  get pid(): number {
    return this.child.pid!
  }

  /** Resolves with the first match of `pattern` on stdout; rejects if the process exits first. */
  output(pattern: RegExp): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(this.stdout)
        if (match) resolve(match)
      }
      this.child.stdout.on('data', check)
      void this.exited.then((code) =>
        reject(new Error(`the add-on exited (${code}) before printing ${pattern}:\n${this.stdout}\n${this.stderr}`)),
      )
      check()
    })
  }

  /** Resolves with the daemon's `genlock ready` fields. */
  async ready(): Promise<{ devices: number; automations: number; problems: number }> {
    const [, fields] = await this.output(/^\S+ INFO {2}genlock ready (\{.*\})$/m)
    return JSON.parse(fields!) as { devices: number; automations: number; problems: number }
  }

  stop(): Promise<number | null> {
    this.child.kill('SIGTERM')
    return this.exited
  }
}

/** A process's uids and gids as /proc shows them: real, effective, saved and filesystem. */
function ids(pid: number): { uid: number[]; gid: number[] } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const numbers = (name: string) => new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(status)![1]!.split(/\s+/).map(Number)
  return { uid: numbers('Uid'), gid: numbers('Gid') }
}

describe('the add-on image, built from its Dockerfile without Docker, on a stand-in Supervisor', () => {
  const login = randomLogin()
  let mosquitto: ServiceProcess & { url: string }
  let supervisor: StandInSupervisor
  let observer: Observer
  const outputs: string[] = []

  beforeAll(async () => {
    mosquitto = await startMosquittoWithLogin(login)
    supervisor = await StandInSupervisor.start({
      host: '127.0.0.1',
      port: mosquitto.port,
      ssl: false,
      protocol: '3.1.1',
      ...login,
    })
    // A free port for the dashboard: 8099 (config.yaml's) may be taken on a developer's machine.
    supervisor.ingressPort = await freePort()
    const withLogin = `mqtt://${login.username}:${encodeURIComponent(login.password)}@127.0.0.1:${mosquitto.port}`
    observer = await Observer.connect(withLogin, ['addon_test/#', 'homeassistant/#'])
  })

  afterAll(async () => {
    await observer?.close()
    await supervisor?.close()
    await mosquitto?.dispose()
  })

  it('the broker lets in only the login the Supervisor hands out', async () => {
    const anonymous = connectAsync(mosquitto.url, { reconnectPeriod: 0, connectTimeout: 5000 })
    await expect(anonymous).rejects.toThrow(/Not authorized/)
  })

  it('connects the daemon with that login, applies the options, seeds examples, and runs as an unprivileged user', async () => {
    const { data, config } = mountFolders({
      base_topic: 'addon_test',
      manual_priority: 150,
      manual_hold: '10m',
      log_level: 'debug',
    })
    const from = observer.mark
    const addon = new AddonProcess(supervisor)
    try {
      expect(await addon.ready()).toMatchObject({ devices: 1, automations: 2, problems: 0 })
      await observer.waitForPayload('addon_test/status', 'online', from)
      // Discovery on, under Home Assistant's prefix: the seeded bulb becomes a light entity.
      await observer.waitFor(
        (m) => /^homeassistant\/light\/.*bath_bulb.*\/config$/.test(m.topic) && m.payload !== '',
        from,
      )

      const expectedUser =
        process.getuid?.() === 0 ? lookupUser(DAEMON_USER) : { uid: process.getuid!(), gid: process.getgid!() }
      expect(ids(addon.pid)).toEqual({ uid: Array(4).fill(expectedUser.uid), gid: Array(4).fill(expectedUser.gid) })
      expect(statSync(join(data, 'genlock/data')).uid).toBe(expectedUser.uid)

      const written = parse(readFileSync(join(data, 'genlock/config.yaml'), 'utf8')) as Record<
        string,
        Record<string, unknown>
      >
      expect(written.mqtt).toEqual({
        url: `mqtt://127.0.0.1:${mosquitto.port}`,
        username: '${GENLOCK_MQTT_USERNAME}',
        password: '${GENLOCK_MQTT_PASSWORD}',
        base_topic: 'addon_test',
      })
      expect(written.manual?.priority ?? written.homeassistant?.manual_priority).toBe(150)
      if (knownConfigKeys().has('manual')) expect(written.manual?.hold).toBe('10m')
      else expect(addon.stdout).toMatch(/WARN {2}option manual_hold \(10m\) needs a genlock with manual holds/)
      if (knownConfigKeys().has('http'))
        expect(written.http).toEqual({
          port: supervisor.ingressPort,
          host: '0.0.0.0',
          ingress_proxy: '172.30.32.2',
        })
      expect(written.log).toEqual({ level: 'debug', pretty: true })

      for (const file of ['devices/bath_bulb.yaml', 'automations/party.yaml', 'automations/alarm.yaml']) {
        expect(readFileSync(join(config, file), 'utf8')).toBe(readFileSync(join(ADDON_DIR, 'seed', file), 'utf8'))
      }

      // log_level debug reaches the daemon: a trigger payload that does not match is a debug line.
      await observer.publish('home/party', 'MAYBE')
      await addon.output(/^\S+ DEBUG trigger not matched/m)
      // The seeded party runs on Home Assistant's broker.
      await observer.publish('home/party', 'ON')
      await observer.waitForPayload(
        'addon_test/automation/party',
        (payload) => payload.includes('"state":"running"'),
        from,
      )
      // The dashboard is on the ingress port, answering Home Assistant's ingress proxy alone (this test is not it).
      const direct = await fetch(`http://127.0.0.1:${supervisor.ingressPort}/`)
      expect(direct.status).toBe(403)
      expect(await direct.text()).toContain("only Home Assistant's ingress proxy (172.30.32.2) may connect")
    } finally {
      const code = await addon.stop()
      outputs.push(addon.stdout, addon.stderr)
      expect(code, `${addon.stdout}\n${addon.stderr}`).toBe(0)
    }
    await observer.waitFor((m) => m.topic === 'addon_test/status' && m.payload === 'offline', from)
    expect(supervisor.requests.map((request) => `${request.path} ${request.authorization}`).sort()).toEqual([
      `/addons/self/info Bearer ${supervisor.token}`,
      `/services/mqtt Bearer ${supervisor.token}`,
    ])
  }, 60_000)

  it("a later start keeps the user's edits and deletions in the config folder", async () => {
    const config = join(image.root, 'config')
    const party = join(config, 'automations/party.yaml')
    const edited = readFileSync(party, 'utf8').replace('priority: 0', 'priority: 5') + '# my party now\n'
    writeFileSync(party, edited)
    rmSync(join(config, 'automations/alarm.yaml'))
    writeFileSync(join(config, 'devices/hall_bulb.yaml'), 'id: hall_bulb\nname: Hall bulb\nadapter: sim\n')

    const addon = new AddonProcess(supervisor)
    try {
      expect(await addon.ready()).toMatchObject({ devices: 2, automations: 1, problems: 0 })
      expect(addon.stdout).not.toMatch(/first start: example files written/)
      expect(readFileSync(party, 'utf8')).toBe(edited)
      expect(existsSync(join(config, 'automations/alarm.yaml'))).toBe(false)
    } finally {
      const code = await addon.stop()
      outputs.push(addon.stdout, addon.stderr)
      expect(code, `${addon.stdout}\n${addon.stderr}`).toBe(0)
    }
  }, 60_000)

  it('never shows the broker login: not in any log line, on stdout or stderr, nor in a file it writes', () => {
    expect(outputs.join('')).toMatch(/genlock ready/)
    for (const secret of [login.username, login.password, supervisor.token]) {
      expect(outputs.join('\n')).not.toContain(secret)
      expect(readFileSync(join(image.root, 'data/genlock/config.yaml'), 'utf8')).not.toContain(secret)
    }
  })

  describe('when it cannot start, it exits non-zero with one clear line, and the login stays out of it', () => {
    async function failedStart(
      target: { url: string; token: string },
      { configWritten = false } = {},
    ): Promise<{ code: number | null; stderr: string }> {
      const { data } = mountFolders()
      const addon = new AddonProcess(target)
      const code = await addon.exited
      expect(existsSync(join(data, 'genlock/config.yaml'))).toBe(configWritten)
      expect(addon.stdout + addon.stderr).not.toContain(login.password)
      return { code, stderr: addon.stderr }
    }

    it('unreachable', async () => {
      const url = `http://127.0.0.1:${await freePort()}`
      const { code, stderr } = await failedStart({ url, token: supervisor.token })
      expect(code).toBe(2)
      expect(stderr).toMatch(
        new RegExp(
          `^genlock addon-start: cannot reach the Home Assistant Supervisor at ${url} to ask for .* \\(ECONNREFUSED\\)`,
        ),
      )
    })

    it('the token refused with 401', async () => {
      supervisor.failWith = 401
      try {
        const { code, stderr } = await failedStart(supervisor)
        expect(code).toBe(2)
        expect(stderr).toMatch(
          /^genlock addon-start: the Home Assistant Supervisor at \S+ refused the add-on's token for \/\S+ \(HTTP 401\)/,
        )
      } finally {
        supervisor.failWith = undefined
      }
    })

    it('a login the broker refuses: the error names neither the user nor the password', async () => {
      const mqtt = supervisor.mqtt
      supervisor.mqtt = { ...mqtt, password: `${login.password}-old` }
      try {
        const { code, stderr } = await failedStart(supervisor, { configWritten: true })
        expect(code).toBe(1)
        expect(stderr).toMatch(
          /^genlock addon-start: genlock could not start: MQTT broker \S+ refused user '\*\*\*': .*Not authorized/m,
        )
        expect(stderr).not.toContain(login.username)
      } finally {
        supervisor.mqtt = mqtt
      }
    })

    it('no MQTT broker add-on', async () => {
      const mqtt = supervisor.mqtt
      supervisor.mqtt = undefined
      try {
        const { code, stderr } = await failedStart(supervisor)
        expect(code).toBe(2)
        expect(stderr).toMatch(/Service not enabled\)\. Install and start the Mosquitto broker add-on/)
      } finally {
        supervisor.mqtt = mqtt
      }
    })
  })
})

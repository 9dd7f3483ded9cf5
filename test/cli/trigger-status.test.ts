import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MqttToolClient } from '../../src/mqtt/tool-client.js'
import { DaemonProcess } from '../daemon/daemon-process.js'
import { freePort, startMosquitto } from '../support/services.js'
import { ALARM, PARTY, simBulb, writeSetup } from './setup-files.js'
import { genlock } from './support/genlock-process.js'

/** Resolves with the first message on `topic` (retained included) whose JSON body `match` accepts. */
async function nextState(
  client: MqttToolClient,
  topic: string,
  match: (body: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const off = client.subscribe(topic, (message) => {
      const body = JSON.parse(message.payload.toString() || 'null') as Record<string, unknown> | null
      if (body && match(body)) {
        off()
        resolve(body)
      }
    })
  })
}

describe('genlock trigger and genlock status against a running daemon on mosquitto', () => {
  let mosquitto: Awaited<ReturnType<typeof startMosquitto>>
  let daemon: DaemonProcess
  let configFile: string
  let watcher: MqttToolClient
  const base = 'trig_test'

  beforeAll(async () => {
    mosquitto = await startMosquitto()
    ;({ configFile } = writeSetup({
      config: `mqtt: { url: ${mosquitto.url}, base_topic: ${base} }\nlog: { level: warn }\n`,
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
      automations: { 'party.yaml': PARTY, 'alarm.yaml': ALARM },
    }))
    watcher = await MqttToolClient.connect({ url: mosquitto.url })
    const partyPublished = nextState(watcher, `${base}/automation/party`, () => true)
    daemon = DaemonProcess.start(configFile)
    await partyPublished
  })

  afterAll(async () => {
    await daemon?.stop()
    await watcher?.close()
    await mosquitto?.dispose()
  })

  it('status prints the devices and automations as tables', async () => {
    const result = await genlock('status', '--config', configFile)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`genlock on ${mosquitto.url} (${base}/#): online`)
    expect(result.stdout).toMatch(/^DEVICE\s+ADAPTER\s+POWER\s+BRIGHTNESS\s+COLOUR\s+REACHABLE\s+HELD BY$/m)
    expect(result.stdout).toMatch(/^bath_bulb\s+sim\s+off\s+100%\s+-\s+yes\s+-$/m)
    expect(result.stdout).toMatch(/^alarm\s+idle$/m)
    expect(result.stdout).toMatch(/^party\s+idle$/m)
  })

  it('trigger on starts the automation, status shows it holding the bulb, trigger off stops it', async () => {
    const running = nextState(watcher, `${base}/automation/party`, (body) => body.state === 'running')
    const held = nextState(watcher, `${base}/device/bath_bulb`, (body) => body.holder === 'party')
    const on = await genlock('trigger', 'party', 'on', '--config', configFile)
    expect(on).toMatchObject({ code: 0, stdout: `party: sent ON to ${base}/automation/party/set\n` })
    await running
    await held

    const status = await genlock('status', '--broker', mosquitto.url, '--base-topic', base)
    expect(status.stdout).toMatch(/^party\s+running$/m)
    expect(status.stdout).toMatch(/^bath_bulb\s+sim\s+o(n|ff)\s+80%\s+#[0-9a-f]{6}\s+yes\s+party$/m)

    const idle = nextState(watcher, `${base}/automation/party`, (body) => body.state === 'idle')
    const off = await genlock('trigger', 'party', 'off', '--config', configFile)
    expect(off.code).toBe(0)
    await idle
  })

  it('status --json gives the same state as data', async () => {
    const result = await genlock('status', '--config', configFile, '--json')
    const state = JSON.parse(result.stdout) as { status: string; automations: { name: string }[] }
    expect(state.status).toBe('online')
    expect(state.automations.map((automation) => automation.name)).toEqual(['alarm', 'party'])
  })

  it('an unknown automation is one clear line and exit 1, naming the ones there are', async () => {
    const result = await genlock('trigger', 'disco', '--config', configFile)
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      `genlock trigger: unknown automation 'disco' (the daemon on ${mosquitto.url} has: alarm, party)\n`,
    )
  })

  it('a payload other than on/off is refused with exit 1', async () => {
    const result = await genlock('trigger', 'party', 'maybe', '--config', configFile)
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(`genlock trigger: 'maybe' must be on or off\n`)
  })

  it('an unreachable broker is one clear line and exit 2', async () => {
    const port = await freePort()
    for (const command of [['trigger', 'party'], ['status']]) {
      const result = await genlock(...command, '--broker', `mqtt://127.0.0.1:${port}`)
      expect(result.code).toBe(2)
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
      expect(result.stderr).toMatch(
        new RegExp(
          `^genlock ${command[0]}: cannot reach the MQTT broker mqtt://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`,
        ),
      )
    }
  })

  it('a missing config file is one clear line and exit 1', async () => {
    const result = await genlock('status', '--config', '/nonexistent/genlock.yaml')
    expect(result).toMatchObject({
      code: 1,
      stderr: 'genlock status: config file /nonexistent/genlock.yaml not found (pass --config <file>)\n',
    })
  })

  it('a trigger sent while the daemon is down says so, and the daemon runs it when it is back', async () => {
    // The daemon's persistent session keeps the command subscription, so the broker queues the command for it.
    const offlineSeen = new Promise<void>((resolve) => {
      const off = watcher.subscribe(`${base}/status`, (message) => {
        if (message.payload.toString() !== 'offline') return
        off()
        resolve()
      })
    })
    await daemon.stop()
    await offlineSeen
    const offline = await genlock('trigger', 'party', 'on', '--config', configFile)
    expect(offline.code).toBe(0)
    expect(offline.stderr).toBe(
      `note: the daemon is offline on ${mosquitto.url}; the broker keeps the command for its session, and it runs ` +
        'when the daemon is back\n',
    )
    const running = nextState(watcher, `${base}/automation/party`, (body) => body.state === 'running')
    daemon = DaemonProcess.start(configFile)
    await running
  })

  it('an unknown command is one clear line and exit 1', async () => {
    const result = await genlock('dance')
    expect(result.code).toBe(1)
    expect(result.stderr.trim()).toBe("error: unknown command 'dance'")
  })
})

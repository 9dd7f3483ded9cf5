import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MqttToolClient } from '../../src/mqtt/tool-client.js'
import type { TimelineEvent } from '../../src/cli/simulate/timeline.js'
import { freePort, startMosquitto } from '../support/services.js'
import { ALARM, PARTY, simBulb, writeSetup } from './setup-files.js'
import { genlock, genlockArgv, GenlockProcess } from './support/genlock-process.js'
import { TmuxSession } from './support/tmux.js'

/** The screen line of automation `name`, e.g. `[b/B] party  prio 0  ▶ running`. */
const automationLine = (screen: string, name: string) =>
  screen.split('\n').find((line) => new RegExp(`\\[\\w/\\w\\] ${name}\\s`).test(line)) ?? ''
const bulbLine = (screen: string, id: string) => screen.split('\n').find((line) => line.includes(` ${id} `)) ?? ''

describe('genlock simulate', () => {
  let mosquitto: Awaited<ReturnType<typeof startMosquitto>>
  let configFile: string
  let dir: string

  beforeAll(async () => {
    mosquitto = await startMosquitto()
    ;({ configFile, dir } = writeSetup({
      config: `mqtt: { url: ${mosquitto.url}, base_topic: simtest }\n`,
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
      automations: { 'party.yaml': PARTY, 'alarm.yaml': ALARM },
    }))
  })

  afterAll(async () => {
    await mosquitto?.dispose()
  })

  it('in a real terminal: keys start the party, the alarm preempts it, and the party resumes when the alarm stops', async () => {
    const tmux = await TmuxSession.start(genlockArgv('simulate', '--config', configFile), {
      env: { COLORTERM: 'truecolor', TERM: 'xterm-256color' },
    })
    try {
      const first = await tmux.waitForScreen(
        (screen) => /party\s+prio 0/.test(screen) && /alarm\s+prio 200/.test(screen),
      )
      expect(first).toContain('genlock simulate')
      expect(first).toContain(`broker ${mosquitto.url}`)
      const key = (name: string) => /\[(\w)\/(\w)\]/.exec(automationLine(first, name))!.slice(1, 3) as [string, string]
      const [partyOn] = key('party')
      const [alarmOn, alarmOff] = key('alarm')

      await tmux.sendKeys(partyOn)
      await tmux.waitForScreen(
        (screen) =>
          /running/.test(automationLine(screen, 'party')) && /held by party/.test(bulbLine(screen, 'bath_bulb')),
      )

      await tmux.sendKeys(alarmOn)
      const alarmed = await tmux.waitForScreen(
        (screen) =>
          /▶ running/.test(automationLine(screen, 'alarm')) &&
          /⏸ suspended/.test(automationLine(screen, 'party')) &&
          /held by alarm/.test(bulbLine(screen, 'bath_bulb')),
      )
      expect(bulbLine(alarmed, 'bath_bulb')).toContain('#ff0000')

      // True colour, as COLORTERM says: the swatch is drawn with 24-bit colour codes.
      const coloured = await tmux.capture(true)
      // On (a background) or off (a foreground pattern), either way a 24-bit SGR code.
      expect(coloured).toMatch(/\[[34]8;2;\d+;\d+;\d+m/)

      await tmux.sendKeys(alarmOff)
      await tmux.waitForScreen(
        (screen) =>
          /idle/.test(automationLine(screen, 'alarm')) &&
          /▶ running/.test(automationLine(screen, 'party')) &&
          /held by party/.test(bulbLine(screen, 'bath_bulb')),
      )

      // A typed command: ':' opens the prompt, Enter runs it.
      await tmux.sendKeys(':stop par')
      await tmux.waitForScreen((screen) => screen.includes(':stop par█'))
      await tmux.sendKeys('ty\r')
      await tmux.waitForScreen(
        (screen) => /idle/.test(automationLine(screen, 'party')) && /free/.test(bulbLine(screen, 'bath_bulb')),
      )

      await tmux.sendKeys('q')
      await tmux.waitForExit()
    } finally {
      await tmux.kill()
    }
  })

  it('falls back to 256 colours when the terminal does not say it has true colour', async () => {
    const tmux = await TmuxSession.start(genlockArgv('simulate', '--config', configFile), {
      env: { COLORTERM: '', TERM: 'xterm-256color' },
    })
    try {
      const screen = await tmux.waitForScreen((text) => text.includes('bath_bulb'), 15_000, true)
      // The off bulb's white, from the 256-colour palette (231, the cube's white), never a 24-bit code.
      expect(screen).toContain('\u001b[38;5;231m')
      expect(screen).not.toContain('8;2;')
      await tmux.sendKeys('q')
      await tmux.waitForExit()
    } finally {
      await tmux.kill()
    }
  })

  it('--headless prints the timeline, takes typed commands, and --record writes it as JSON lines', async () => {
    const record = join(dir, 'timeline.jsonl')
    const sim = GenlockProcess.start('simulate', '--config', configFile, '--headless', '--record', record)
    try {
      await sim.waitFor(/started \(\w+, [^)]+\): 1 bulbs, automations alarm, party; broker mqtt:/)
      sim.type('trigger party\n')
      await sim.waitFor(/bulb bath_bulb: \w+ 80% #ff0000, held by party/)
      const mark = sim.stdout.length
      // A trigger from outside over MQTT works too: the simulation listens on the real broker.
      const client = await MqttToolClient.connect({ url: mosquitto.url })
      await client.publish('home/alarm', 'ON', { qos: 1 })
      await client.close()
      await sim.waitFor(/automation party: suspended/, mark)
      await sim.waitFor(/bulb bath_bulb: \w+ 50% #ff0000, held by alarm/, mark)
      sim.type('alarm off\n')
      await sim.waitFor(/automation party: running/, mark)
      sim.type('trigger disco\n')
      await sim.waitFor(/! unknown automation 'disco' \(there are: alarm, party\)/)
      sim.type('quit\n')
      expect((await sim.exited).code).toBe(0)
    } finally {
      await sim.stop()
    }
    const events = readFileSync(record, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as TimelineEvent)
    expect(events[0]).toMatchObject({ type: 'start', devices: ['bath_bulb'], automations: ['alarm', 'party'] })
    const sequence = events
      .filter((event) => event.type === 'automation' && event.state !== 'idle')
      .map((event) => (event.type === 'automation' ? `${event.name}:${event.state}` : ''))
    expect(sequence).toEqual(['party:running', 'alarm:running', 'party:suspended', 'party:running'])
    // The typed commands, with the trigger messages they published; the unknown one published nothing.
    expect(events.filter((event) => event.type === 'input')).toMatchObject([
      { action: 'trigger', automation: 'party', topic: 'home/party', payload: 'ON' },
      { action: 'stop', automation: 'alarm', topic: 'home/alarm', payload: 'OFF' },
    ])
    // Times only ever go forward.
    expect(events.map((event) => event.t)).toEqual([...events.map((event) => event.t)].sort((a, b) => a - b))
  })

  it('piped commands run in order, each once what the one before set off has happened, and quit waits for them', async () => {
    // All at once, as a pipe delivers them: before, quit ended the simulation before the trigger had arrived.
    const sim = GenlockProcess.start('simulate', '--config', configFile, '--headless', '--start', '2026-12-24T06:55')
    try {
      await sim.waitFor(/started \(thu, [^)]+\): 1 bulbs, automations alarm, party; broker mqtt:/)
      sim.type('trigger party\nadvance 1s\nset bath_bulb off\npublish home/party OFF\nadvance soon\nquit\n')
      expect((await sim.exited).code).toBe(0)
    } finally {
      await sim.stop()
    }
    const lines = sim.stdout
      .split('\n')
      .map((line) => line.replace(/^(\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d\.\d{3} {2}/, ''))
    const after = (pattern: RegExp, from: number) => lines.findIndex((line, i) => i > from && pattern.test(line))
    const steps = [
      /^> trigger party: home\/party ON$/,
      /^bulb bath_bulb: on 80% #ff0000, held by party$/,
      /^> advance 1s$/,
      /^bulb bath_bulb: on 80% #0000ff, held by party$/,
      /^> set bath_bulb off \(outside genlock\)$/,
      /^bulb bath_bulb: off 80% #0000ff, held by party$/,
      /^> publish home\/party OFF$/,
      /^automation party: idle$/,
      /^ {2}! advance: 'soon' is not a duration/,
      /^quit$/,
    ]
    let at = -1
    for (const step of steps) {
      const next = after(step, at)
      expect(next, `${step} after line ${at} in:\n${sim.stdout}`).toBeGreaterThan(at)
      at = next
    }
    // The clock starts where --start says, in the config's time zone, and advance moves it.
    expect(sim.stdout).toMatch(/^2026-12-24 06:55:00\.\d{3} {2}started/)
    expect(sim.stdout).toMatch(/06:55:01\.\d{3} {2}bulb bath_bulb: on 80% #0000ff/)
  })

  it('a missing config is one clear line and exit 1, at once', async () => {
    const missing = await genlock('simulate', '--config', '/nonexistent/config.yaml', '--headless')
    expect(missing).toMatchObject({
      code: 1,
      stderr: 'genlock simulate: config file /nonexistent/config.yaml not found (pass --config <file>)\n',
    })
  })

  it('an unreachable broker is one clear line and exit 2', async () => {
    const port = await freePort()
    const unreachable = await genlock(
      'simulate',
      '--config',
      configFile,
      '--headless',
      '--broker',
      `mqtt://127.0.0.1:${port}`,
    )
    expect(unreachable.code).toBe(2)
    expect(unreachable.stderr).toMatch(
      new RegExp(`^genlock simulate: cannot reach the MQTT broker mqtt://127\\.0\\.0\\.1:${port}: .+\\n$`),
    )
  })

  it('a timeline file that cannot be written is one clear line and exit 1', async () => {
    const unwritable = await genlock(
      'simulate',
      '--config',
      configFile,
      '--headless',
      '--record',
      '/nonexistent/t.jsonl',
    )
    expect(unwritable.code).toBe(1)
    expect(unwritable.stderr).toMatch(
      /^genlock simulate: cannot write the timeline to \/nonexistent\/t\.jsonl: ENOENT.*\n$/,
    )
  })

  it('a bad --speed or --start is one clear line and exit 1', async () => {
    const speed = await genlock('simulate', '--config', configFile, '--headless', '--speed', 'fast')
    expect(speed).toMatchObject({
      code: 1,
      stderr: "genlock simulate: --speed must be a number, 0 or more (0 stops the clock), not 'fast'\n",
    })
    const start = await genlock('simulate', '--config', configFile, '--headless', '--start', 'soon')
    expect(start).toMatchObject({
      code: 1,
      stderr:
        "genlock simulate: --start must be a date and time such as 2026-12-24T06:55 (or 06:55 for today), not 'soon'\n",
    })
  })

  it('broken files are one clear line naming file:line:column and exit 1', async () => {
    const broken = writeSetup({
      config: 'mqtt: { embedded: true }\n',
      devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
      automations: { 'party.yaml': PARTY.replace('priority: 0', 'priority: high') },
    })
    const invalid = await genlock('simulate', '--config', broken.configFile, '--headless')
    expect(invalid.code).toBe(1)
    expect(invalid.stderr).toMatch(/^genlock simulate: \S+party\.yaml:2:\d+ priority: .+\n$/)
  })
})

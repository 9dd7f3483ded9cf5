/**
 * Run traces end to end: a real mosquitto, the daemon in this process with a sim bulb, the party and alarm.
 * The trace says who took the bulb at which priority and where the party resumed; it survives a restart.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { traceOutput } from '../../src/cli/trace.js'
import { loadTraceRecord } from '../../src/daemon/extensions/traces/trace-file.js'
import type { RunTrace, TraceEntry } from '../../src/daemon/extensions/traces/trace.js'
import type { SimCommandLogEntry } from '../../src/devices/index.js'
import { ALARM, PARTY, simBulb } from '../cli/setup-files.js'
import { daemonTestBed, startTestDaemon, type TestDaemon } from './harness.js'

const by = (holder: string) => (entry: SimCommandLogEntry) => entry.origin?.holder === holder
const ofType = <T extends TraceEntry['type']>(trace: RunTrace, type: T) =>
  trace.entries.filter((entry): entry is Extract<TraceEntry, { type: T }> => entry.type === type)

describe('run traces', () => {
  const bed = daemonTestBed()

  async function start(dataDir: string) {
    bed.running = await startTestDaemon(
      bed.mosquitto.url,
      {
        devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
        automations: { 'party.yaml': PARTY, 'alarm.yaml': ALARM },
      },
      `data_dir: ${dataDir}\n`,
    )
    return bed.running
  }

  const summaryOn = (
    t: TestDaemon,
    automation: string,
    test: (summary: Record<string, unknown>) => boolean,
    from = 0,
  ) =>
    bed.mqtt.waitFor(
      (m) =>
        m.topic === `${t.baseTopic}/automation/${automation}/trace` && m.payload !== '' && test(JSON.parse(m.payload)),
      from,
    )

  it('records who preempted the party, at which priority and step, and where it resumed; survives a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'genlock-traces-'))
    const t = await start(dataDir)
    const bulb = t.bulb('bath_bulb')
    const from = bed.mqtt.mark

    const blue = bulb.nextCommand((entry) => by('party')(entry) && entry.state.color?.b === 255)
    await bed.mqtt.publish('home/party', 'ON')
    await blue
    const alarmStarts = bulb.nextCommand(by('alarm'))
    await bed.mqtt.publish('home/alarm', 'ON')
    await alarmStarts
    await summaryOn(t, 'party', (s) => s['result'] === 'suspended' && s['preempted_by'] === 'alarm', from)
    const partyBack = bulb.nextCommand(by('party'))
    await bed.mqtt.publish('home/alarm', 'OFF')
    await partyBack
    await bed.mqtt.publish('home/party', 'OFF')
    const summary = await summaryOn(t, 'party', (s) => s['result'] === 'stopped', from)
    expect(JSON.parse(summary.payload)).toMatchObject({
      run: 1,
      preempted_by: 'alarm',
      preempted_priority: 200,
      trigger: { kind: 'mqtt', topic: 'home/party', payload: 'ON' },
      error: null,
    })
    await summaryOn(t, 'alarm', (s) => s['result'] === 'stopped', from)
    await t.daemon.stop()
    bed.running = undefined

    // What the file under data_dir holds after the daemon stopped.
    const party = loadTraceRecord(dataDir, 'party')!.runs.at(-1)!
    expect(party).toMatchObject({ automation: 'party', number: 1, result: 'stopped' })
    expect(party.preemptedBy).toEqual({ holder: 'alarm', priority: 200 })
    expect(party.entries[0]).toMatchObject({ type: 'triggered', via: { kind: 'mqtt', topic: 'home/party' } })
    const preempted = ofType(party, 'preempted')
    expect(preempted).toHaveLength(1)
    // The party lost the bulb in its wait after `set blue`: the repeat's 4th step.
    expect(preempted[0]).toMatchObject({ code: 'PREEMPTED', by: { holder: 'alarm', priority: 200 } })
    expect(preempted[0]!.step).toBe('steps.0.repeat.steps.3')
    expect(ofType(party, 'recovered')).toEqual([expect.objectContaining({ action: 'resume' })])
    // It asked for the bulb back while the alarm held it.
    expect(ofType(party, 'waiting')).toEqual([
      expect.objectContaining({ device: 'bath_bulb', heldBy: { holder: 'alarm', priority: 200 } }),
    ])
    const commands = ofType(party, 'command')
    expect(commands.length).toBeGreaterThanOrEqual(3)
    expect(commands[0]).toMatchObject({ device: 'bath_bulb', ok: true, command: { color: 'red', brightness: 80 } })
    expect(commands.every((command) => command.ms >= 0)).toBe(true)
    const steps = ofType(party, 'step').filter((step) => step.phase === 'start')
    expect(steps[0]).toMatchObject({ path: 'steps.0', kind: 'repeat' })
    expect(party.entries.at(-1)).toMatchObject({ type: 'ended', outcome: 'stopped' })
    const timeline = traceOutput(dataDir, 'party', {})
    expect(timeline).toMatch(/^party run 1: stopped, .*preempted by alarm \(priority 200\)/)
    expect(timeline).toMatch(/\d\d:\d\d:\d\d\.\d{3} preempted by alarm \(priority 200\) at step 1 › repeat 4\n/)
    expect(timeline).toMatch(/waits for bath_bulb, held by alarm \(priority 200\)/)
    expect(timeline).toMatch(/got the lock back: resumed at step 1 › repeat 4/)
    expect(timeline).toMatch(/→ bath_bulb brightness 80, color red: ok in [\d.]+ ms, now on 80 % #ff0000\n/)

    // A restart: the kept runs come back, the summary is published again, and run numbers go on.
    const again = await start(dataDir)
    const republished = await summaryOn(again, 'party', (s) => s['run'] === 1)
    expect(JSON.parse(republished.payload)).toMatchObject({ result: 'stopped', preempted_by: 'alarm' })
    const mark = bed.mqtt.mark
    const red = again.bulb('bath_bulb').nextCommand(by('party'))
    await bed.mqtt.publish('home/party', 'ON')
    await red
    await bed.mqtt.publish('home/party', 'OFF')
    await summaryOn(again, 'party', (s) => s['run'] === 2 && s['result'] === 'stopped', mark)
    await again.daemon.stop()
    bed.running = undefined
    const kept = loadTraceRecord(dataDir, 'party')!
    expect(kept.runs.map((run) => [run.number, run.result])).toEqual([
      [1, 'stopped'],
      [2, 'stopped'],
    ])
    expect(kept.next).toBe(3)
    expect(traceOutput(dataDir, 'party', { run: 1 })).toMatch(/^party run 1: /)
    expect(() => traceOutput(dataDir, 'party', { run: 7 })).toThrow(/no run 7 kept; runs 1–2/)
  })

  it('publishes a burst of runs as a few summaries, the last one being the last run', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'genlock-traces-'))
    const ping = `name: ping
priority: 0
devices: [bath_bulb]
mode: queued
max: 50
trigger:
  - mqtt: home/ping
steps:
  - set: { brightness: "{{ trigger.json.b }}" }
`
    bed.running = await startTestDaemon(
      bed.mosquitto.url,
      { devices: { 'bath_bulb.yaml': simBulb('bath_bulb') }, automations: { 'ping.yaml': ping } },
      `data_dir: ${dataDir}\n`,
    )
    const t = bed.running
    const from = bed.mqtt.mark
    const runs = 20
    // Each run would publish `running`, then `completed`, were summaries not coalesced.
    await Promise.all(
      Array.from({ length: runs }, (_, i) => bed.mqtt.publish('home/ping', JSON.stringify({ b: i + 1 }))),
    )
    await summaryOn(t, 'ping', (s) => s['run'] === runs && s['result'] === 'completed', from)
    const published = bed.mqtt.seen.slice(from).filter((m) => m.topic === `${t.baseTopic}/automation/ping/trace`)
    expect(published.length).toBeLessThan(runs)
    expect(published.map((m) => JSON.parse(m.payload)['run'] as number)).toEqual(
      published.map((m) => JSON.parse(m.payload)['run'] as number).sort((a, b) => a - b),
    )
    const commands = t.bulb('bath_bulb').commandLog.filter(by('ping'))
    expect(commands.map((entry) => entry.state.brightness)).toEqual(Array.from({ length: runs }, (_, i) => i + 1))
  })

  it('names the step that failed, and the error the run ended with', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'genlock-traces-'))
    const t = await start(dataDir)
    t.bulb('bath_bulb').setReachable(false)
    const from = bed.mqtt.mark
    await bed.mqtt.publish('home/party', 'ON')
    const summary = await summaryOn(t, 'party', (s) => s['result'] === 'failed', from)
    expect(JSON.parse(summary.payload)['error']).toMatch(/bath_bulb/)
    await t.daemon.stop()
    bed.running = undefined
    const timeline = traceOutput(dataDir, 'party', {})
    expect(timeline).toMatch(/step 1 › repeat 1 \(set\) failed: .*bath_bulb/)
    expect(timeline).toMatch(/→ bath_bulb brightness 80, color red: FAILED after [\d.]+ ms: .*bath_bulb/)
    expect(timeline).toMatch(/ended: failed \(.*bath_bulb.*\)\n$/)
  })

  it('shows a manual command from Home Assistant taking the bulb as a preemption by manual', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'genlock-traces-'))
    const t = await start(dataDir)
    const bulb = t.bulb('bath_bulb')
    const from = bed.mqtt.mark
    const red = bulb.nextCommand(by('party'))
    await bed.mqtt.publish('home/party', 'ON')
    await red
    const manual = bulb.nextCommand(by('manual'))
    await bed.mqtt.publish(`${t.baseTopic}/device/bath_bulb/light/set`, JSON.stringify({ state: 'ON', brightness: 30 }))
    await manual
    const summary = await summaryOn(t, 'party', (s) => s['preempted_by'] === 'manual', from)
    expect(JSON.parse(summary.payload)).toMatchObject({ preempted_priority: 100 })
    await bed.mqtt.publish('home/party', 'OFF')
    await summaryOn(t, 'party', (s) => s['result'] === 'stopped', from)
    await t.daemon.stop()
    bed.running = undefined
    expect(traceOutput(dataDir, 'party', {})).toMatch(/preempted by manual \(priority 100\) at step 1 › repeat/)
  })
})

import { describe, expect, it } from 'vitest'
import { DaemonEvents } from '../../src/daemon/events.js'

function recordingLogger() {
  const lines: { fields: Record<string, unknown>; message: string | undefined }[] = []
  return { lines, error: (fields: object, message?: string) => lines.push({ fields: fields as never, message }) }
}

const status = (name: string) => ({ name, state: 'running' as const })

describe('DaemonEvents', () => {
  it('calls listeners in the order they were added, with the typed arguments', () => {
    const events = new DaemonEvents(recordingLogger())
    const seen: string[] = []
    events.on({ name: 'a' }, 'automationStatus', (s) => seen.push(`a:${s.name}`))
    events.on({ name: 'b' }, 'automationStatus', (s) => seen.push(`b:${s.name}`))
    events.on({ name: 'a' }, 'devicesChanged', ({ added }) => seen.push(`a:+${added.join()}`))
    events.emit('automationStatus', status('party'))
    events.emit('devicesChanged', { added: ['bath'], removed: [] })
    expect(seen).toEqual(['a:party', 'b:party', 'a:+bath'])
  })

  it("removes every listener of one owner in one call, and no one else's", () => {
    const events = new DaemonEvents(recordingLogger())
    const seen: string[] = []
    const a = { name: 'a' }
    events.on(a, 'automationStatus', () => seen.push('a1'))
    events.on(a, 'reloaded', () => seen.push('a2'))
    events.on({ name: 'b' }, 'automationStatus', () => seen.push('b'))
    events.removeListeners(a)
    events.emit('automationStatus', status('party'))
    events.emit('reloaded', { problems: [], warnings: [], devices: 0, automations: 0 })
    expect(seen).toEqual(['b'])
  })

  it('logs a throwing or rejecting listener with its owner and event, and still calls the others', async () => {
    const logger = recordingLogger()
    const events = new DaemonEvents(logger)
    const seen: string[] = []
    events.on({ name: 'broken' }, 'automationStatus', () => {
      throw new Error('boom')
    })
    events.on({ name: 'async' }, 'automationStatus', async () => {
      throw new Error('later')
    })
    events.on({ name: 'fine' }, 'automationStatus', () => seen.push('fine'))
    expect(() => events.emit('automationStatus', status('party'))).not.toThrow()
    expect(seen).toEqual(['fine'])
    await new Promise((resolve) => setImmediate(resolve))
    expect(logger.lines.map((line) => line.fields)).toEqual([
      { extension: 'broken', event: 'automationStatus', err: 'boom' },
      { extension: 'async', event: 'automationStatus', err: 'later' },
    ])
    expect(logger.lines[0]!.message).toBe('broken: its automationStatus listener failed: boom')
  })

  it('runs a source only while someone listens to its event', () => {
    const events = new DaemonEvents(recordingLogger())
    const log: string[] = []
    events.source('run', () => {
      log.push('start')
      return () => log.push('stop')
    })
    expect(log).toEqual([])
    const a = { name: 'a' }
    const b = { name: 'b' }
    events.on(a, 'run', () => {})
    events.on(b, 'run', () => {})
    expect(log).toEqual(['start'])
    events.removeListeners(a)
    expect(log).toEqual(['start'])
    events.removeListeners(b)
    expect(log).toEqual(['start', 'stop'])
    expect(events.has('run')).toBe(false)
  })
})

import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger, prettyLine } from '../../src/config/logger.js'

function capture(pretty: boolean) {
  const out = new PassThrough()
  const lines: string[] = []
  out.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)))
  return { logger: createLogger({ level: 'info', pretty, destination: out }), lines }
}

describe('daemon logger', () => {
  it('writes JSON lines by default, with secrets redacted', () => {
    const { logger, lines } = capture(false)
    logger.info({ mqtt: { url: 'mqtt://broker', username: 'ha', password: 'hunter2' } }, 'connecting')
    logger.debug({}, 'below the level')
    expect(lines).toHaveLength(1)
    const entry = JSON.parse(lines[0]!) as { msg: string; level: number; mqtt: Record<string, string> }
    expect(entry.msg).toBe('connecting')
    expect(entry.mqtt).toEqual({ url: 'mqtt://broker', username: '***', password: '***' })
    expect(lines[0]).not.toContain('hunter2')
  })

  it('writes readable lines when pretty', () => {
    const { logger, lines } = capture(true)
    logger.warn({ device: 'bath_bulb' }, 'device unreachable')
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}device unreachable {"device":"bath_bulb"}$/)
  })

  it('passes non-JSON through unchanged', () => {
    expect(prettyLine('not json\n')).toBe('not json\n')
  })
})

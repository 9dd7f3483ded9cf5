import { execFileSync } from 'node:child_process'
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

describe('batched log lines (the daemon on stdout)', () => {
  function batched(pretty: boolean) {
    const out = new PassThrough()
    const chunks: string[] = []
    out.on('data', (chunk: Buffer) => chunks.push(chunk.toString()))
    return { logger: createLogger({ level: 'info', pretty, destination: out, batch: true }), chunks }
  }
  const turnOver = () => new Promise((resolve) => setImmediate(resolve))

  it('writes the lines of one turn of the event loop after it, in order, as one chunk', async () => {
    const { logger, chunks } = batched(false)
    logger.info('triggered by mqtt home/party')
    logger.info('got the lock')
    expect(chunks).toEqual([])
    await turnOver()
    await turnOver()
    expect(chunks).toHaveLength(1)
    expect(
      chunks[0]!
        .split('\n')
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { msg: string }).msg),
    ).toEqual(['triggered by mqtt home/party', 'got the lock'])
  })

  it('formats pretty lines one by one when it writes them', async () => {
    const { logger, chunks } = batched(true)
    logger.warn({ device: 'bath_bulb' }, 'device unreachable')
    logger.info('finished')
    await turnOver()
    await turnOver()
    const lines = chunks.join('').split('\n').filter(Boolean)
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}device unreachable {"device":"bath_bulb"}$/)
    expect(lines[1]).toMatch(/ INFO {2}finished$/)
  })

  it('writes what is pending at once on flush', async () => {
    const { logger, chunks } = batched(false)
    logger.info('stopping')
    logger.flush()
    // PassThrough hands written data to 'data' listeners a tick later.
    await new Promise((resolve) => process.nextTick(resolve))
    expect(chunks.join('')).toContain('"msg":"stopping"')
  })

  it('writes the lines still pending when the process exits', () => {
    const script = `
      import { createLogger } from './src/config/logger.ts'
      const logger = createLogger({ level: 'info', pretty: false })
      logger.info('signal received')
      logger.info('genlock stopped')
      process.exit(0)
    `
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url),
      encoding: 'utf8',
    })
    const messages = output
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { msg: string }).msg)
    expect(messages).toEqual(['signal received', 'genlock stopped'])
  })
})

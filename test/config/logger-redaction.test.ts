import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../src/config/logger.js'

const SECRET = 'S3cretPass'

function capture() {
  const out = new PassThrough()
  const lines: string[] = []
  out.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)))
  return { logger: createLogger({ level: 'debug', pretty: false, destination: out }), lines }
}

/** What ioredis attaches to a failed AUTH: the command with its arguments, the password among them. */
function replyError(): Error {
  return Object.assign(new Error('WRONGPASS invalid username-password pair or user is disabled.'), {
    name: 'ReplyError',
    command: { name: 'hello', args: ['3', 'AUTH', 'default', SECRET] },
  })
}

describe('the daemon logger redacts secrets wherever they are', () => {
  it("redacts the arguments of an error's attached command, keeping the command's name", () => {
    const { logger, lines } = capture()
    logger.warn(
      { url: `redis://default:${SECRET}@127.0.0.1:6379`, err: replyError() },
      'cannot set up the Redis client',
    )
    expect(lines).toHaveLength(1)
    expect(lines[0]).not.toContain(SECRET)
    const entry = JSON.parse(lines[0]!) as { url: string; err: { type: string; message: string; command: unknown } }
    expect(entry.url).toBe('redis://default:***@127.0.0.1:6379')
    expect(entry.err.type).toBe('ReplyError')
    expect(entry.err.message).toMatch(/^WRONGPASS/)
    expect(entry.err.command).toEqual({ name: 'hello', args: '[4 arguments redacted]' })
  })

  it('finds errors and commands under any key, in arrays and in causes', () => {
    const { logger, lines } = capture()
    const wrapped = new Error('lock backend down', { cause: replyError() })
    logger.error({ failures: [replyError()], error: wrapped, nested: { deeper: { err: replyError() } } }, 'x')
    expect(lines[0]).not.toContain(SECRET)
    expect(lines[0]).toContain('lock backend down')
    expect(lines[0]).toContain('[4 arguments redacted]')
  })

  it('redacts the password of every URL in any string: fields, messages, error messages and stacks', () => {
    const { logger, lines } = capture()
    const error = new Error(`cannot reach mqtts://ha:${SECRET}@broker:8883 (timeout)`)
    logger.info(
      { detail: `tried amqp://:${SECRET}@queue and mqtt://u:${SECRET}@b:1883/x`, err: error },
      `at mqtt://u:${SECRET}@b`,
    )
    logger.child({ broker: `mqtt://u:${SECRET}@b:1883` }).info('child bindings too')
    expect(lines.join('\n')).not.toContain(SECRET)
    const entry = JSON.parse(lines[0]!) as { detail: string; msg: string; err: { message: string; stack: string } }
    expect(entry.detail).toBe('tried amqp://:***@queue and mqtt://u:***@b:1883/x')
    expect(entry.msg).toBe('at mqtt://u:***@b')
    expect(entry.err.message).toBe('cannot reach mqtts://ha:***@broker:8883 (timeout)')
    expect(entry.err.stack).toContain('mqtts://ha:***@broker:8883')
    expect(JSON.parse(lines[1]!)).toMatchObject({ broker: 'mqtt://u:***@b:1883' })
  })

  it('redacts password, token, secret and username fields at any depth', () => {
    const { logger, lines } = capture()
    logger.info({ a: { b: { c: { password: SECRET, token: SECRET, client_secret: SECRET, username: 'ha' } } } }, 'deep')
    expect(lines[0]).not.toContain(SECRET)
    expect(JSON.parse(lines[0]!)).toMatchObject({
      a: { b: { c: { password: '***', token: '***', client_secret: '***', username: '***' } } },
    })
  })

  it('leaves ordinary fields, and the objects it was given, as they were', () => {
    const { logger, lines } = capture()
    const fields = { device: 'bath_bulb', brightness: 80, on: true, steps: [1, 2], url: 'mqtt://127.0.0.1:1883' }
    const error = replyError()
    logger.info({ ...fields, err: error }, 'plain')
    expect(JSON.parse(lines[0]!)).toMatchObject(fields)
    expect((error as Error & { command: { args: string[] } }).command.args).toContain(SECRET)
  })

  it('survives a cycle', () => {
    const { logger, lines } = capture()
    const loop: Record<string, unknown> = { name: 'loop' }
    loop.self = loop
    logger.info({ loop }, 'cycle')
    expect(JSON.parse(lines[0]!)).toMatchObject({ loop: { name: 'loop', self: '[Circular]' } })
  })
})

/**
 * src/mqtt/packet-library.ts sets mqtt-packet up before its first packet: its disabled `debug` loggers become
 * no-ops (the `debug` package's own logger builds a rest-args array on every call, enabled or not: 13 KB per
 * trigger, issue 12's p99) and its 6.5 MB number cache stays off (issue 18). Checked in a fresh process each time,
 * as the setup only works if it runs before mqtt-packet is loaded, and with DEBUG set the real loggers must stay.
 */
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

const library = new URL('../../src/mqtt/packet-library.ts', import.meta.url).href

/** What a fresh node process sees of mqtt-packet's loggers and cache after importing the setup, then mqtt.js. */
function inspect(env: Record<string, string>): { shared: boolean; enabled: boolean; cacheNumbers: boolean } {
  const script = `
    await import(${JSON.stringify(library)})
    await import('mqtt')
    const { createRequire } = await import('node:module')
    const require = createRequire(require_base)
    const packet = require.resolve('mqtt-packet')
    const debug = createRequire(packet)('debug')
    const logger = debug('mqtt-packet:parser')
    console.log(JSON.stringify({ shared: logger === debug('mqtt-packet:writeToStream'), enabled: logger.enabled, cacheNumbers: require('mqtt-packet').writeToStream.cacheNumbers }))
  `.replace('require_base', JSON.stringify(new URL('../../package.json', import.meta.url).pathname))
  const { DEBUG: _debug, ...rest } = process.env
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...rest, ...env },
    encoding: 'utf8',
  })
  return JSON.parse(out.trim().split('\n').at(-1)!) as { shared: boolean; enabled: boolean; cacheNumbers: boolean }
}

describe('mqtt-packet setup', () => {
  it('hands out a no-op for a disabled debug namespace and keeps the number cache off', () => {
    const seen = inspect({})
    expect(seen.enabled).toBe(false)
    // One shared no-op for every disabled namespace: the `debug` package makes a new logger per namespace.
    expect(seen.shared).toBe(true)
    expect(seen.cacheNumbers).toBe(false)
  })

  it('keeps the real debug loggers when DEBUG asks for them', () => {
    const seen = inspect({ DEBUG: 'mqtt-packet:*' })
    expect(seen.enabled).toBe(true)
    expect(seen.shared).toBe(false)
    expect(seen.cacheNumbers).toBe(false)
  })
})

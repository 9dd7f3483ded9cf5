/**
 * What `genlock run` loads is what its config uses (issue 18: module loading was most of the start-up time and a
 * good part of the memory once ready). A daemon with sim bulbs, in-memory locks and no `http` must not load the
 * Hue, Kasa or MQTT-bulb adapters, the Redis lock protocol, the dashboard or the HTTP listener, nor their
 * libraries, nor mqtt.js's WebSocket transport or SOCKS client, nor (without conditions or templates) jexl; and
 * without time in any automation, it must not read the time zone data (~6 MB of RSS). Counted from the modules the
 * process actually loaded (a load hook) and the Intl.DateTimeFormat instances it made, never from timings.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BLINK, simBulb, writeSetup } from '../cli/setup-files.js'
import { optionalPartsLoaded } from '../support/optional-modules.js'
import { freePort } from '../support/services.js'
import { runWithProbe } from './daemon-process.js'

const recorder = join(import.meta.dirname, '../support/record-modules.ts')
const timeZoneReads = join(import.meta.dirname, '../support/record-time-zone-reads.ts')

/** The modules a `genlock run` of `files` loaded by the time it was ready (and stopped). */
async function modulesLoaded(config: string, devices: Record<string, string>): Promise<string[]> {
  const { configFile } = writeSetup({ config, devices, automations: { 'blink.yaml': BLINK } })
  return (await runWithProbe(configFile, recorder, 'GENLOCK_MODULES_OUT')).split('\n')
}

describe('genlock run loads what its config uses', () => {
  it('sim bulbs, in-memory locks, no http: none of the optional parts', async () => {
    const port = await freePort()
    const modules = await modulesLoaded(`mqtt: { embedded: true, port: ${port} }\n`, {
      'bath_bulb.yaml': simBulb('bath_bulb'),
    })
    expect(modules.some((url) => url.includes('/src/devices/sim/'))).toBe(true)
    expect(optionalPartsLoaded(modules)).toEqual([])
  })

  it('a hue bulb and the dashboard: those, and still nothing else', async () => {
    const [port, httpPort] = [await freePort(), await freePort()]
    const modules = await modulesLoaded(
      `mqtt: { embedded: true, port: ${port} }\nhttp: { port: ${httpPort}, host: 127.0.0.1 }\n`,
      {
        'bath_bulb.yaml': simBulb('bath_bulb'),
        'hall_bulb.yaml':
          'id: hall_bulb\nadapter: hue\nhost: 127.0.0.1\nport: 9\nusername: key\nlight: 1\nretries: 0\n',
      },
    )
    expect(optionalPartsLoaded(modules)).toEqual(['hue', 'dashboard'])
  })

  it('automations without time: the time zone data is never read; an `at` trigger reads it', async () => {
    const reads = async (automation: string) => {
      const port = await freePort()
      const { configFile } = writeSetup({
        config: `mqtt: { embedded: true, port: ${port} }\n`,
        devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
        automations: { 'blink.yaml': automation },
      })
      return Number(await runWithProbe(configFile, timeZoneReads, 'GENLOCK_TIME_ZONE_READS_OUT'))
    }
    expect(await reads(BLINK)).toBe(0)
    expect(await reads(BLINK.replace('  - mqtt: home/blink', '  - at: "07:00"'))).toBeGreaterThan(0)
  })
})

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The footprint workload's size: sim bulbs, and automations each taking two of them. */
export const BULBS = 50
export const AUTOMATIONS = 20

/**
 * genlock's config folder for the footprint workload: BULBS sim bulbs and AUTOMATIONS automations, each taking two
 * bulbs when `<topics>/in/<i>` arrives and answering on `<topics>/out/<i>`. Everything else on the defaults
 * (in-memory locks, log level info, JSON logs). `mqtt` is the config's `mqtt:` value. Returns the config file.
 */
export function writeFootprintSetup(dir: string, mqtt: string, topics = 'bench'): string {
  mkdirSync(join(dir, 'devices'), { recursive: true })
  mkdirSync(join(dir, 'automations'), { recursive: true })
  for (let i = 0; i < BULBS; i++) writeFileSync(join(dir, 'devices', `bulb_${i}.yaml`), `id: bulb_${i}\nadapter: sim\n`)
  for (let i = 0; i < AUTOMATIONS; i++) {
    const bulbs = [`bulb_${(2 * i) % BULBS}`, `bulb_${(2 * i + 1) % BULBS}`]
    writeFileSync(
      join(dir, 'automations', `bench_${i}.yaml`),
      [
        `name: bench_${i}`,
        `priority: ${(i % 3) * 10}`,
        `devices: [${bulbs.join(', ')}]`,
        'mode: queued',
        'trigger:',
        `  - mqtt: ${topics}/in/${i}`,
        'steps:',
        '  - set: { on: true, brightness: 60, color: orange }',
        `  - publish: { topic: ${topics}/out/${i}, payload: done, qos: 1 }`,
        '',
      ].join('\n'),
    )
  }
  writeFileSync(join(dir, 'config.yaml'), `mqtt: ${mqtt}\ndevices: ./devices\nautomations: ./automations\n`)
  return join(dir, 'config.yaml')
}

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A config folder in /tmp: config.yaml plus devices/ and automations/ holding the given files. */
export function writeSetup(files: {
  config: string
  devices?: Record<string, string>
  automations?: Record<string, string>
}): { dir: string; configFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'genlock-setup-'))
  mkdirSync(join(dir, 'devices'))
  mkdirSync(join(dir, 'automations'))
  writeFileSync(join(dir, 'config.yaml'), files.config)
  for (const [name, text] of Object.entries(files.devices ?? {})) writeFileSync(join(dir, 'devices', name), text)
  for (const [name, text] of Object.entries(files.automations ?? {}))
    writeFileSync(join(dir, 'automations', name), text)
  return { dir, configFile: join(dir, 'config.yaml') }
}

export const simBulb = (id: string) => `id: ${id}\nadapter: sim\n`

/** One fixed `set` on bath_bulb when home/blink arrives: no template, no condition, no time. */
export const BLINK = `name: blink
priority: 0
devices: [bath_bulb]
trigger:
  - mqtt: home/blink
steps:
  - set: { on: true, brightness: 60, color: orange }
`

/** The party automation, exactly as written there. */
export const PARTY = `name: party
priority: 0
devices: [bath_bulb]
trigger:
  - mqtt: home/party
    payload: "ON"
stop:
  - mqtt: home/party
    payload: "OFF"
on_preempt: resume        # resume | restart | abort | { replace: <automation name> }
steps:
  - repeat:
      forever: true
      steps:
        - set: { color: red, brightness: 80 }
        - wait: 1s
        - set: { color: blue }
        - wait: 1s
        - set: { color: yellow }
        - wait: 1s
`

/** The alarm automation, exactly as written there. */
export const ALARM = `name: alarm
priority: 200
devices: [bath_bulb]
restore: true             # when it ends and nothing else takes the bulb, put it back as it was
lock: { ttl: 10m, acquire_timeout: 5s }
trigger:
  - mqtt: home/alarm
    payload: "ON"
stop:
  - mqtt: home/alarm
    payload: "OFF"
on_preempt: restart
steps:
  - repeat:
      forever: true
      steps:
        - set: { color: red, brightness: 50 }
        - wait: 500ms
        - set: { brightness: 100 }
        - wait: 500ms
`

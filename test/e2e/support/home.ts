import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import type { PrintedDeviceFile } from './user-cli.js'

/** A user's genlock folder: config.yaml, devices/ and automations/, in a fresh temp folder. */
export interface Home {
  readonly dir: string
  readonly config: string
}

/** The `id` a device file gives its bulb. */
export function deviceIdOf(file: PrintedDeviceFile): string {
  const id = (parse(file.text) as { id?: unknown }).id
  if (typeof id !== 'string') throw new Error(`device file ${file.name} has no id:\n${file.text}`)
  return id
}

/**
 * Writes a home: `mqtt` is the config's `mqtt:` value (flow YAML), the device files as the CLI printed them, and
 * automations by name.
 */
export function writeHome(options: {
  mqtt: string
  devices: readonly PrintedDeviceFile[]
  automations: Record<string, string>
}): Home {
  const dir = mkdtempSync(join(tmpdir(), 'genlock-e2e-home-'))
  mkdirSync(join(dir, 'devices'))
  mkdirSync(join(dir, 'automations'))
  for (const file of options.devices) writeFileSync(join(dir, 'devices', file.name), file.text)
  for (const [name, text] of Object.entries(options.automations))
    writeFileSync(join(dir, 'automations', `${name}.yaml`), text)
  const config = join(dir, 'config.yaml')
  writeFileSync(config, `mqtt: ${options.mqtt}\ndevices: ./devices\nautomations: ./automations\n`)
  return { dir, config }
}

/**
 * An automation that takes `device` when `trigger` arrives, turns it on at `brightness` %, then reports on
 * `<doneTopic>/<device>` (so a test knows the bulb has answered the command).
 */
export function commandAutomation(options: {
  name: string
  device: string
  trigger: string
  brightness: number
  doneTopic: string
}): string {
  return [
    `name: ${options.name}`,
    'priority: 0',
    `devices: [${options.device}]`,
    'mode: queued',
    'trigger:',
    `  - mqtt: ${options.trigger}`,
    'steps:',
    `  - set: { on: true, brightness: ${options.brightness} }`,
    `  - publish: { topic: ${options.doneTopic}/${options.device}, payload: done }`,
    '',
  ].join('\n')
}

import { Writable } from 'node:stream'
import { createLogger } from '../../src/config/logger.js'
import { Daemon } from '../../src/daemon.js'
import type { SimBulb } from '../../src/devices/index.js'
import { writeSetup } from '../cli/setup-files.js'

/** The daemon's JSON log lines, so a test can wait for the one it expects (on the line itself, not a timer). */
export class Logs {
  readonly lines: Record<string, unknown>[] = []
  private waiters: { match: (line: Record<string, unknown>) => boolean; resolve: () => void }[] = []
  readonly stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      for (const text of chunk.toString().split('\n')) {
        if (!text.trim()) continue
        const line = JSON.parse(text) as Record<string, unknown>
        this.lines.push(line)
        this.waiters = this.waiters.filter((waiter) => {
          if (!waiter.match(line)) return true
          waiter.resolve()
          return false
        })
      }
      done()
    },
  })

  /** Resolves on the first line (already written, or still to come) whose message includes `text`. */
  waitFor(text: string): Promise<void> {
    const match = (line: Record<string, unknown>) => String(line['msg']).includes(text)
    if (this.lines.some(match)) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ match, resolve }))
  }
}

export interface HaTestDaemon {
  readonly daemon: Daemon
  readonly logs: Logs
  readonly dir: string
  readonly baseTopic: string
  bulb(id: string): SimBulb
}

let counter = 0

/**
 * The daemon in this process on the broker at `url` (so discovery is on by default), with its own base topic and
 * client id, built from the given device and automation files.
 */
export async function startHaDaemon(
  url: string,
  files: { devices: Record<string, string>; automations: Record<string, string> },
  extraConfig = '',
): Promise<HaTestDaemon> {
  const baseTopic = `ha${++counter}_${process.pid}`
  const { dir, configFile } = writeSetup({
    config: `mqtt: { url: "${url}", base_topic: ${baseTopic}, client_id: ${baseTopic} }\n${extraConfig}`,
    ...files,
  })
  const logs = new Logs()
  const logger = createLogger({ level: 'debug', pretty: false, destination: logs.stream })
  const daemon = await Daemon.start(configFile, { logger, reloadDebounceMs: 50 })
  return {
    daemon,
    logs,
    dir,
    baseTopic,
    bulb: (id) => {
      const bulb = daemon.devices.get(id)
      if (!bulb) throw new Error(`no device ${id}`)
      return bulb as SimBulb
    },
  }
}

/** The fields Home Assistant's MQTT integration needs in every discovery config, and per component. */
export function discoveryProblems(component: string, config: Record<string, unknown>): string[] {
  const problems: string[] = []
  const need = (field: string, ok: (value: unknown) => boolean) => {
    if (!ok(config[field]))
      problems.push(`${component}: ${field} missing or malformed: ${JSON.stringify(config[field])}`)
  }
  const topic = (value: unknown) => typeof value === 'string' && value.length > 0 && !/[#+]/.test(value)
  need('unique_id', (value) => typeof value === 'string' && /^[a-zA-Z0-9_-]+$/.test(value))
  need('device', (value) => {
    const device = value as { identifiers?: unknown; name?: unknown } | undefined
    return (
      Array.isArray(device?.identifiers) &&
      device.identifiers.length > 0 &&
      device.identifiers.every((id) => typeof id === 'string' && /^[a-zA-Z0-9_-]+$/.test(id)) &&
      typeof device.name === 'string'
    )
  })
  need('origin', (value) => typeof (value as { name?: unknown } | undefined)?.name === 'string')
  need(
    'availability',
    (value) =>
      Array.isArray(value) && value.length > 0 && value.every((entry) => topic((entry as { topic?: unknown }).topic)),
  )
  if (component === 'switch') {
    need('command_topic', topic)
    need('state_topic', topic)
  } else if (component === 'sensor') {
    need('state_topic', topic)
  } else if (component === 'light') {
    need('command_topic', topic)
    need('state_topic', topic)
    need('schema', (value) => value === 'json')
    need('brightness_scale', (value) => value === 100)
    need(
      'supported_color_modes',
      (value) =>
        Array.isArray(value) &&
        value.length > 0 &&
        // HA refuses onoff or brightness beside any other mode.
        (value.length === 1 || value.every((mode) => mode !== 'onoff' && mode !== 'brightness')),
    )
  } else {
    problems.push(`unexpected component ${component}`)
  }
  return problems
}

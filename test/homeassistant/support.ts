import { afterAll, afterEach, beforeAll } from 'vitest'
import { startTestDaemon, type LogEntry, type TestDaemon } from '../daemon/harness.js'
import { Observer } from '../mqtt/observer.js'
import { startMosquitto, type ServiceProcess } from '../support/services.js'

/** The daemon's JSON log lines, so a test can wait for the one it expects (on the line itself, not a timer). */
export interface Logs {
  readonly lines: readonly LogEntry[]
  /** Resolves on the first line (already written, or still to come) whose message includes `text`. */
  waitFor(text: string): Promise<void>
}

export interface HaTestDaemon extends Omit<TestDaemon, 'logs'> {
  readonly logs: Logs
}

/**
 * The daemon in this process on the broker at `url` (so discovery is on by default), with its own base topic and
 * client id, built from the given device and automation files.
 */
export async function startHaDaemon(
  url: string,
  files: { devices: Record<string, string>; automations: Record<string, string> },
  extraConfig = '',
): Promise<HaTestDaemon> {
  const started = await startTestDaemon(url, files, extraConfig)
  const capture = started.logs
  const logs: Logs = {
    lines: capture.entries,
    waitFor: async (text) => {
      await capture.waitFor((entry) => String(entry.msg).includes(text))
    },
  }
  return { ...started, logs }
}

/**
 * A real mosquitto and a client playing Home Assistant (subscribed to `topics`) for one describe block; every
 * daemon started through `start` is stopped after its test.
 */
export function haTestBed(topics: string[]) {
  let mosquitto: ServiceProcess & { url: string }
  let ha: Observer
  let running: HaTestDaemon | undefined
  beforeAll(async () => {
    mosquitto = await startMosquitto()
    ha = await Observer.connect(mosquitto.url, topics)
  })
  afterEach(async () => {
    await running?.daemon.stop()
    running = undefined
  })
  afterAll(async () => {
    await ha?.close()
    await mosquitto?.dispose()
  })
  return {
    get ha(): Observer {
      return ha
    },
    async start(files: Parameters<typeof startHaDaemon>[1], extraConfig = ''): Promise<HaTestDaemon> {
      running = await startHaDaemon(mosquitto.url, files, extraConfig)
      return running
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
  } else if (component === 'button') {
    need('command_topic', topic)
  } else {
    problems.push(`unexpected component ${component}`)
  }
  return problems
}

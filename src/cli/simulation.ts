import { readFileSync } from 'node:fs'
import type { Logger } from 'pino'
import type { AutomationDefinition, TriggerDefinition } from '../automation/definition.js'
import { AutomationEngine } from '../automation/engine.js'
import type { AutomationStatus } from '../automation/status.js'
import { formatProblem } from '../config/problems.js'
import { checkSetup } from '../daemon.js'
import { createSimulatedBulb, toHex, type Bulb, type SimBulb } from '../devices/index.js'
import genLock from '../lock/index.js'
import { redactUrl, startEmbeddedBroker, type EmbeddedBroker } from '../mqtt/index.js'
import { MqttToolClient } from '../mqtt/tool-client.js'
import { CliError, EXIT, requireConfigFile } from './errors.js'
import type { AutomationView, BulbView } from './render/screen.js'

/** One thing that happened in a simulation; `t` is ms since it started. Written as JSON lines by `--record`. */
export type TimelineEvent =
  | {
      readonly t: number
      readonly type: 'start'
      readonly broker: string
      readonly devices: string[]
      readonly automations: string[]
    }
  | {
      readonly t: number
      readonly type: 'bulb'
      readonly id: string
      readonly on: boolean
      readonly brightness: number
      readonly color?: string
      readonly colorTemp?: number
      readonly holder: string | null
    }
  | {
      readonly t: number
      readonly type: 'automation'
      readonly name: string
      readonly state: string
      readonly lastError?: string
    }
  | {
      readonly t: number
      readonly type: 'input'
      readonly action: 'trigger' | 'stop'
      readonly automation: string
      readonly topic: string
      readonly payload: string
    }

/** A timeline event as one human-readable line (what `--headless` prints). */
export function formatEvent(event: TimelineEvent): string {
  const at = `${(event.t / 1000).toFixed(3).padStart(8)}s`
  switch (event.type) {
    case 'start':
      return `${at}  started: ${event.devices.length} bulbs, automations ${event.automations.join(', ') || '(none)'}; broker ${event.broker}`
    case 'bulb': {
      const look = event.color ?? (event.colorTemp === undefined ? 'white' : `${event.colorTemp}K`)
      const holder = event.holder ? `held by ${event.holder}` : 'free'
      return `${at}  bulb ${event.id}: ${event.on ? 'on' : 'off'} ${Math.round(event.brightness)}% ${look}, ${holder}`
    }
    case 'automation':
      return `${at}  automation ${event.name}: ${event.state}${event.lastError ? ` (${event.lastError})` : ''}`
    case 'input':
      return `${at}  > ${event.action} ${event.automation}: ${event.topic} ${event.payload}`
  }
}

/** The message that fires `trigger`, when one can be built (a plain topic, no condition); else undefined. */
function messageFor(trigger: TriggerDefinition | undefined): { topic: string; payload: string } | undefined {
  if (!trigger || trigger.kind !== 'mqtt' || /[+#]/.test(trigger.topic) || trigger.condition !== undefined) {
    return undefined
  }
  if (trigger.payload !== undefined) return { topic: trigger.topic, payload: trigger.payload }
  if (trigger.json) {
    const body: Record<string, unknown> = {}
    for (const [path, value] of Object.entries(trigger.json)) {
      const keys = path.split('.')
      let node = body
      for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>
      node[keys.at(-1)!] = value
    }
    return { topic: trigger.topic, payload: JSON.stringify(body) }
  }
  return { topic: trigger.topic, payload: 'ON' }
}

export interface SimulationOptions {
  /** Use this broker instead of the config's (or the embedded one simulate starts). */
  readonly broker?: string | undefined
  readonly logger: Logger
  /** Receives every timeline event, the first (`start`) included. */
  readonly onEvent?: (event: TimelineEvent) => void
}

/**
 * The configured automations running against simulated twins of every configured device, on a real broker (the
 * configured one, or an embedded one on a free port so a running daemon is never disturbed). Reports everything
 * that happens as {@link TimelineEvent}s.
 */
export class Simulation {
  readonly bulbs = new Map<string, SimBulb>()
  private readonly listeners = new Set<(event: TimelineEvent) => void>()
  private readonly statuses = new Map<string, AutomationStatus>()
  private readonly lastBulbEvent = new Map<string, string>()
  private readonly cleanups: (() => void)[] = []
  private readonly startedAt = performance.now()
  private stopping: Promise<void> | undefined
  private engine!: AutomationEngine

  private constructor(
    readonly definitions: readonly AutomationDefinition[],
    readonly brokerUrl: string,
    readonly baseTopic: string,
    private readonly bus: MqttToolClient,
    private readonly broker: EmbeddedBroker | undefined,
    private readonly maxPayloadBytes: number,
  ) {}

  /** Loads the config, starts the bulbs and the broker connection, and starts the automations. */
  static async start(configFile: string, options: SimulationOptions): Promise<Simulation> {
    requireConfigFile(configFile)
    const setup = checkSetup(configFile)
    const first = setup.problems[0]
    if (first || !setup.config) {
      const more = setup.problems.length > 1 ? ` (and ${setup.problems.length - 1} more: run genlock validate)` : ''
      throw new CliError(`${first ? formatProblem(first) : 'config could not be read'}${more}`)
    }
    const mqtt = setup.config.mqtt
    let broker: EmbeddedBroker | undefined
    let url: string
    let credentials = {}
    if (options.broker !== undefined) url = options.broker
    else if (mqtt.embedded) {
      broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1' })
      url = broker.url
    } else {
      url = mqtt.url
      credentials = {
        username: mqtt.username,
        password: mqtt.password,
        ca: mqtt.ca ? readFileSync(mqtt.ca) : undefined,
        cert: mqtt.cert ? readFileSync(mqtt.cert) : undefined,
        key: mqtt.key ? readFileSync(mqtt.key) : undefined,
      }
    }
    let bus: MqttToolClient
    try {
      bus = await MqttToolClient.connect({ url, clientIdPrefix: 'genlock_simulate', ...credentials })
    } catch (error) {
      await broker?.close()
      throw new CliError((error as Error).message, EXIT.unreachable)
    }
    // brokerUrl is shown on screen and recorded in the timeline: never with its password.
    const simulation = new Simulation(
      setup.automations,
      redactUrl(url),
      mqtt.baseTopic,
      bus,
      broker,
      mqtt.maxPayloadBytes,
    )
    if (options.onEvent) simulation.onEvent(options.onEvent)
    await simulation.run(setup.devices, options.logger)
    return simulation
  }

  /** Calls `listener` for every timeline event from now on; returns the unsubscribe function. */
  onEvent(listener: (event: TimelineEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** The automation names in file order; the simulator's keys follow this order. */
  get automationNames(): string[] {
    return this.definitions.map((definition) => definition.name)
  }

  /**
   * Publishes what fires `name`'s first trigger (`trigger`) or first stop (`stop`) — its MQTT message when it is a
   * plain topic, else the daemon-style command `<base>/automation/<name>/set ON|OFF`.
   */
  async fire(name: string, action: 'trigger' | 'stop'): Promise<void> {
    const definition = this.definitions.find((candidate) => candidate.name === name)
    if (!definition) throw new CliError(`unknown automation '${name}' (there are: ${this.automationNames.join(', ')})`)
    const message = messageFor(action === 'trigger' ? definition.trigger[0] : definition.stop[0]) ?? {
      topic: `${this.baseTopic}/automation/${name}/set`,
      payload: action === 'trigger' ? 'ON' : 'OFF',
    }
    this.emit({ t: this.now(), type: 'input', action, automation: name, ...message })
    await this.bus.publish(message.topic, message.payload, { qos: 1 })
  }

  /** The bulbs and automations as the renderer shows them. */
  view(): { bulbs: BulbView[]; automations: AutomationView[] } {
    const bulbs = [...this.bulbs.values()].map((bulb) => {
      const holder = this.engine.holderOf(bulb.id)
      const { on, brightness, color, colorTemp } = bulb.state
      return {
        id: bulb.id,
        name: bulb.name,
        on,
        brightness,
        ...(color ? { color } : {}),
        ...(colorTemp === undefined ? {} : { colorTemp }),
        ...(holder ? { holder } : {}),
      }
    })
    const automations = this.definitions.map((definition) => {
      const status = this.statuses.get(definition.name)
      return {
        name: definition.name,
        priority: definition.priority,
        state: status?.state ?? 'idle',
        ...(status?.lastError ? { lastError: status.lastError } : {}),
      }
    })
    return { bulbs, automations }
  }

  /** ms since the simulation started. */
  now(): number {
    return Math.round(performance.now() - this.startedAt)
  }

  /** Stops the automations (restoring bulbs where configured), the bulbs, the connection and the broker. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const cleanup of this.cleanups.splice(0)) cleanup()
      await this.engine.stop()
      await Promise.allSettled([...this.bulbs.values()].map((bulb) => bulb.stop()))
      await this.bus.close()
      await this.broker?.close()
    })()
    return this.stopping
  }

  private async run(devices: ReturnType<typeof checkSetup>['devices'], logger: Logger): Promise<void> {
    const locks = genLock()
    const bulbs = new Map<string, Bulb>()
    for (const config of devices) {
      const bulb = createSimulatedBulb(config, { logger })
      this.bulbs.set(config.id, bulb)
      bulbs.set(config.id, bulb)
      await bulb.start()
      this.cleanups.push(bulb.subscribe(() => this.bulbChanged(config.id)))
    }
    this.engine = new AutomationEngine({
      locks,
      devices: bulbs,
      bus: this.bus,
      baseTopic: this.baseTopic,
      logger,
      maxPayloadBytes: this.maxPayloadBytes,
    })
    this.cleanups.push(
      this.engine.on('status', (status) => {
        this.statuses.set(status.name, status)
        this.emit({
          t: this.now(),
          type: 'automation',
          name: status.name,
          state: status.state,
          ...(status.lastError ? { lastError: status.lastError } : {}),
        })
      }),
      locks.protocol.on((event) => {
        if (this.bulbs.has(event.resource)) this.bulbChanged(event.resource)
      }),
    )
    this.emit({
      t: this.now(),
      type: 'start',
      broker: this.brokerUrl,
      devices: [...this.bulbs.keys()],
      automations: this.automationNames,
    })
    for (const id of this.bulbs.keys()) this.bulbChanged(id)
    this.engine.load(this.definitions, bulbs)
    this.engine.start()
  }

  private bulbChanged(id: string): void {
    const bulb = this.bulbs.get(id)
    if (!bulb || !this.engine) return
    const { on, brightness, color, colorTemp } = bulb.state
    const body = {
      id,
      on,
      brightness,
      ...(color ? { color: toHex(color) } : {}),
      ...(colorTemp === undefined ? {} : { colorTemp }),
      holder: this.engine.holderOf(id) ?? null,
    }
    const key = JSON.stringify(body)
    if (this.lastBulbEvent.get(id) === key) return
    this.lastBulbEvent.set(id, key)
    this.emit({ t: this.now(), type: 'bulb', ...body })
  }

  private emit(event: TimelineEvent): void {
    for (const listener of [...this.listeners]) listener(event)
  }
}

import type { AutomationStatus } from '../../automation/index.js'
import { perTick, type DaemonContext, type Extension } from '../../daemon/index.js'
import { toHex } from '../../devices/color.js'
import { CliError } from '../errors.js'
import type { AutomationView, BulbView } from '../render/screen.js'
import { messageFor } from './input.js'

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

/**
 * The daemon extension behind `genlock simulate`: it turns what the daemon does (bulb states, holders, automation
 * states) into {@link TimelineEvent}s for the terminal view, `--headless` and `--record`, and fires triggers and
 * stops the way a user would, over MQTT.
 */
export class Timeline implements Extension {
  readonly name = 'timeline'
  private context!: DaemonContext
  private readonly startedAt = performance.now()
  private readonly statuses = new Map<string, AutomationStatus>()
  private readonly lastBulbEvent = new Map<string, string>()
  /** A bulb's line, reported once per tick however many bulb and lock events changed it. */
  private readonly bulbChanged = perTick((ids: string[]) => ids.forEach((id) => this.report(id)))

  constructor(private readonly onEvent: (event: TimelineEvent) => void) {}

  start(context: DaemonContext): void {
    this.context = context
    const { events } = context
    this.onEvent({
      t: this.now(),
      type: 'start',
      broker: context.bus.url,
      devices: [...context.devices.keys()],
      automations: this.automationNames,
    })
    for (const status of context.engine.status()) this.statuses.set(status.name, status)
    events.on(this, 'automationStatus', (status) => {
      this.statuses.set(status.name, status)
      this.onEvent({
        t: this.now(),
        type: 'automation',
        name: status.name,
        state: status.state,
        ...(status.lastError ? { lastError: status.lastError } : {}),
      })
    })
    events.on(this, 'deviceEvent', (id) => this.bulbChanged(id))
    events.on(this, 'lock', (event) => this.bulbChanged(event.resource))
    for (const id of context.devices.keys()) this.report(id)
  }

  stop(): void {}

  /** The automation names in file order; the simulator's keys follow this order. */
  get automationNames(): string[] {
    return this.context.automations.map((definition) => definition.name)
  }

  /** Where the daemon's broker is. */
  get brokerUrl(): string {
    return this.context.bus.url
  }

  /**
   * Publishes what fires `name`'s first trigger (`trigger`) or first stop (`stop`) — its MQTT message when it is a
   * plain topic, else the daemon's command `<base>/automation/<name>/set ON|OFF`.
   */
  async fire(name: string, action: 'trigger' | 'stop'): Promise<void> {
    const definition = this.context.automations.find((candidate) => candidate.name === name)
    if (!definition) throw new CliError(`unknown automation '${name}' (there are: ${this.automationNames.join(', ')})`)
    const message = messageFor(action === 'trigger' ? definition.trigger[0] : definition.stop[0]) ?? {
      topic: `${this.context.config.mqtt.baseTopic}/automation/${name}/set`,
      payload: action === 'trigger' ? 'ON' : 'OFF',
    }
    this.onEvent({ t: this.now(), type: 'input', action, automation: name, ...message })
    // QoS 1, as `genlock trigger` sends it.
    await this.context.bus.publish(message.topic, message.payload, { qos: 1 })
  }

  /** The bulbs and automations as the renderer shows them. */
  view(): { bulbs: BulbView[]; automations: AutomationView[] } {
    const bulbs = [...this.context.devices.values()].map((bulb) => {
      const holder = this.context.holders.holderOf(bulb.id)
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
    const automations = this.context.automations.map((definition) => {
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

  private report(id: string): void {
    const bulb = this.context.devices.get(id)
    if (!bulb) return
    const { on, brightness, color, colorTemp } = bulb.state
    const body = {
      id,
      on,
      brightness,
      ...(color ? { color: toHex(color) } : {}),
      ...(colorTemp === undefined ? {} : { colorTemp }),
      holder: this.context.holders.holderOf(id) ?? null,
    }
    const key = JSON.stringify(body)
    if (this.lastBulbEvent.get(id) === key) return
    this.lastBulbEvent.set(id, key)
    this.onEvent({ t: this.now(), type: 'bulb', ...body })
  }
}

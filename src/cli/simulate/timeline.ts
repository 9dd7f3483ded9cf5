import { randomUUID } from 'node:crypto'
import type { AutomationStatus, VirtualClock } from '../../automation/index.js'
import { localTime, systemTimeZone } from '../../automation/local-time.js'
import { perTick, type DaemonContext, type Extension } from '../../daemon/index.js'
import type { BulbCommand } from '../../devices/bulb.js'
import { toHex } from '../../devices/color.js'
import { SimBulb } from '../../devices/sim/sim-bulb.js'
import { CliError } from '../errors.js'
import type { AutomationView, BulbView } from '../render/screen.js'
import { messageFor } from './input.js'

/** One thing that happened in a simulation; `t` is virtual ms since it started. Written as JSON lines by `--record`. */
export type TimelineEvent =
  | {
      readonly t: number
      readonly type: 'start'
      /** The virtual time it started at: epoch ms, and as the config's time zone shows it. */
      readonly at: number
      readonly time: string
      readonly timezone: string
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
  | {
      readonly t: number
      readonly type: 'input'
      readonly action: 'publish'
      readonly topic: string
      readonly payload: string
    }
  | {
      readonly t: number
      readonly type: 'input'
      readonly action: 'set'
      readonly device: string
      readonly change: string
    }
  | { readonly t: number; readonly type: 'input'; readonly action: 'advance'; readonly ms: number; readonly by: string }
  /** The simulation stops here: what stopping does to the bulbs is not part of the timeline. */
  | { readonly t: number; readonly type: 'end' }

/**
 * Timeline events as human-readable lines (what `--headless` prints), stamped with the virtual local time; the
 * date is written on the first line and whenever it changes. `broker: false` leaves the broker's address out (a
 * script's private broker is on a different port every run).
 */
export function timelineFormatter(options: { readonly broker?: boolean } = {}): (event: TimelineEvent) => string {
  let start = 0
  let timezone = 'UTC'
  let day = ''
  return (event) => {
    if (event.type === 'start') {
      start = event.at
      timezone = event.timezone
    }
    const local = localTime(start + event.t, timezone)
    const ms = String((((start + event.t) % 1000) + 1000) % 1000).padStart(3, '0')
    const stamp = `${local.date === day ? '' : `${local.date} `}${local.time}.${ms}`
    day = local.date
    return `${stamp}  ${describe(event, local.weekday, options.broker ?? true)}`
  }
}

function describe(event: TimelineEvent, weekday: string, broker: boolean): string {
  switch (event.type) {
    case 'start': {
      const where = broker ? `; broker ${event.broker}` : ''
      return `started (${weekday}, ${event.timezone}): ${event.devices.length} bulbs, automations ${event.automations.join(', ') || '(none)'}${where}`
    }
    case 'bulb': {
      const look = event.color ?? (event.colorTemp === undefined ? 'white' : `${event.colorTemp}K`)
      const holder = event.holder ? `held by ${event.holder}` : 'free'
      return `bulb ${event.id}: ${event.on ? 'on' : 'off'} ${Math.round(event.brightness)}% ${look}, ${holder}`
    }
    case 'end':
      return 'quit'
    case 'automation':
      return `automation ${event.name}: ${event.state}${event.lastError ? ` (${event.lastError})` : ''}`
    case 'input':
      switch (event.action) {
        case 'trigger':
        case 'stop':
          return `> ${event.action} ${event.automation}: ${event.topic} ${event.payload}`
        case 'publish':
          return `> publish ${event.topic} ${event.payload}`
        case 'set':
          return `> set ${event.device} ${event.change} (outside genlock)`
        case 'advance':
          return `> advance ${event.by}`
      }
  }
}

/** How many settle rounds in a row may keep finding work before settling gives up (a loop that never waits). */
const MAX_SETTLE_ROUNDS = 1000
/** How long the broker may take to echo a settle marker before settling goes on without it. */
const ECHO_TIMEOUT_MS = 2000

/**
 * The daemon extension behind `genlock simulate`: it turns what the daemon does (bulb states, holders, automation
 * states) into {@link TimelineEvent}s for the terminal view, `--headless` and `--record`; it fires triggers and
 * stops and publishes the way a user would, over MQTT, changes simulated bulbs from outside, and tells when what
 * all that set off has happened ({@link settle}).
 */
export class Timeline implements Extension {
  readonly name = 'timeline'
  private context!: DaemonContext
  private startedAt = 0
  private readonly statuses = new Map<string, AutomationStatus>()
  private readonly lastBulbEvent = new Map<string, string>()
  /** A bulb's line, reported once per tick however many bulb and lock events changed it. */
  private readonly bulbChanged = perTick((ids: string[]) => ids.forEach((id) => this.report(id)))
  /** Counts everything the daemon does: unchanged across a settle round means nothing was going on. */
  private activity = 0
  private echoTopic = ''
  private echoes = 0
  private readonly echoWaiters = new Map<string, () => void>()
  private ended = false

  private readonly onEvent: (event: TimelineEvent) => void

  constructor(
    onEvent: (event: TimelineEvent) => void,
    private readonly clock: VirtualClock,
  ) {
    this.onEvent = (event) => {
      if (!this.ended) onEvent(event)
    }
  }

  /** Ends the timeline with an `end` event; nothing after it is reported (the daemon stopping, say). */
  end(): void {
    this.onEvent({ t: this.now(), type: 'end' })
    this.ended = true
  }

  start(context: DaemonContext): void {
    this.context = context
    this.startedAt = this.clock.now()
    const { events } = context
    this.onEvent({
      t: this.now(),
      type: 'start',
      at: this.startedAt,
      time: localTime(this.startedAt, context.config.timezone).iso,
      timezone: context.config.timezone ?? systemTimeZone(),
      broker: context.bus.url,
      devices: [...context.devices.keys()],
      automations: this.automationNames,
    })
    for (const status of context.engine.status()) this.statuses.set(status.name, status)
    events.on(this, 'automationStatus', (status) => {
      this.activity++
      this.statuses.set(status.name, status)
      this.onEvent({
        t: this.now(),
        type: 'automation',
        name: status.name,
        state: status.state,
        ...(status.lastError ? { lastError: status.lastError } : {}),
      })
    })
    events.on(this, 'deviceEvent', (id) => {
      this.activity++
      this.bulbChanged(id)
    })
    events.on(this, 'lock', (event) => {
      this.activity++
      this.bulbChanged(event.resource)
    })
    events.on(this, 'run', () => this.activity++)
    // Messages genlock and this simulation publish reach the broker and come back in order: a marker sent after
    // them comes back after them. Its own topic, so a simulation on a shared broker never hears another's.
    this.echoTopic = `${context.config.mqtt.baseTopic}/simulate/${randomUUID()}/settle`
    context.bus.subscribe(this.echoTopic, (message) => {
      this.echoWaiters.get(message.payload.toString())?.()
    })
    for (const id of context.devices.keys()) this.report(id)
  }

  stop(): void {}

  /** The automation names in file order. */
  get automationNames(): string[] {
    return this.context.automations.map((definition) => definition.name)
  }

  get deviceIds(): string[] {
    return [...this.context.devices.keys()]
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

  /** Publishes a message, as any other client on the broker would. */
  async publish(topic: string, payload: string): Promise<void> {
    this.onEvent({ t: this.now(), type: 'input', action: 'publish', topic, payload })
    await this.context.bus.publish(topic, payload, { qos: 1 })
  }

  /** Changes a simulated bulb as its app or wall switch would: genlock hears of it as an outside change. */
  set(device: string, change: BulbCommand, text: string): void {
    const bulb = this.context.devices.get(device)
    if (!bulb) throw new CliError(`unknown device '${device}' (there are: ${this.deviceIds.join(', ')})`)
    if (!(bulb instanceof SimBulb)) throw new CliError(`${device} is not a simulated bulb`)
    this.onEvent({ t: this.now(), type: 'input', action: 'set', device, change: text })
    try {
      bulb.changeFromApp(change)
    } catch (error) {
      throw new CliError(`set ${device}: ${(error as Error).message}`)
    }
  }

  /** Notes an `advance` in the timeline (the clock moves it). */
  advancing(ms: number, by: string): void {
    this.onEvent({ t: this.now(), type: 'input', action: 'advance', ms, by })
  }

  /**
   * Resolves once what was set off has happened: the daemon did nothing new over two rounds in a row, each round
   * letting the process's own work run to its next wait and sending a marker through the broker (so messages
   * published before it have arrived and been handled). False when it kept finding work (an automation looping
   * without a wait) and gave up.
   */
  async settle(): Promise<boolean> {
    let calm = 0
    for (let round = 0; calm < 2; round++) {
      if (round >= MAX_SETTLE_ROUNDS) return false
      const before = this.activity
      await this.clock.quiet()
      await this.echo()
      await this.clock.quiet()
      calm = this.activity === before ? calm + 1 : 0
    }
    return true
  }

  /** The bulbs and automations as the renderer shows them; a fading bulb at the brightness it shows now. */
  view(): { bulbs: BulbView[]; automations: AutomationView[] } {
    const bulbs = [...this.context.devices.values()].map((bulb) => {
      const holder = this.context.holders.holderOf(bulb.id)
      const { on, color, colorTemp } = bulb.state
      const brightness = on && bulb instanceof SimBulb ? bulb.brightnessAt(this.clock.now()) : bulb.state.brightness
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

  /** Virtual ms since the simulation started. */
  now(): number {
    return this.clock.now() - this.startedAt
  }

  /** The virtual time now, as the config's time zone shows it. */
  localNow(): string {
    const local = localTime(this.clock.now(), this.context.config.timezone)
    return `${local.weekday} ${local.date} ${local.time}`
  }

  private echo(): Promise<void> {
    const marker = String(++this.echoes)
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.echoWaiters.delete(marker)
        resolve()
      }
      const timer = setTimeout(done, ECHO_TIMEOUT_MS)
      this.echoWaiters.set(marker, done)
      // QoS 1 as the triggers go: a QoS 0 marker could overtake a QoS 1 message still being stored.
      this.context.bus.publish(this.echoTopic, marker, { qos: 1 }).catch(done)
    })
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

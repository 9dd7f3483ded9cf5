import { MqttToolClient } from '../mqtt/tool-client.js'

export interface Zigbee2MqttLightsOptions {
  /** The broker, e.g. mqtt://127.0.0.1:1883. */
  readonly url: string
  /** Zigbee2MQTT's base topic. Default `zigbee2mqtt`. */
  readonly baseTopic?: string
  /** Number of lights, named light_1, light_2, … Default 2. */
  readonly count?: number
  /** The lights' names (their topics are `<base>/<name>`); overrides `count`. */
  readonly names?: readonly string[]
  readonly username?: string
  readonly password?: string
}

/** One simulated light's state, as Zigbee2MQTT publishes it. */
export type Zigbee2MqttLightState = Record<string, unknown>

/** One `/set` command a light received, and what it did with it. */
export interface Zigbee2MqttRequest {
  /** `Date.now()` when it arrived. */
  readonly at: number
  readonly command: Record<string, unknown>
  /** `answered` (applied, new state published), or the fault that swallowed it. */
  readonly outcome: 'answered' | 'hung' | 'dropped'
}

/** The state a light starts in: off, full brightness, warm white (370 mireds ≈ 2700 K). */
const INITIAL_STATE: Zigbee2MqttLightState = {
  state: 'OFF',
  brightness: 254,
  color_mode: 'color_temp',
  color_temp: 370,
  color: { x: 0.4573, y: 0.41 },
}

/** Most commands kept per light in {@link SimulatedZigbeeLight.requests}: `genlock sim mqtt` may run for days. */
const REQUEST_LOG_LIMIT = 1000

/**
 * One Zigbee2MQTT-style light on the broker, with the faults tests need: it can hang (take commands, answer none),
 * drop the next command (a lost radio frame), report itself offline, or be changed "from the app" (a remote, the
 * Zigbee2MQTT frontend) behind genlock's back. Every command is logged.
 */
export class SimulatedZigbeeLight {
  /** The most recent `/set` commands (up to 1000), oldest first. */
  readonly requests: Zigbee2MqttRequest[] = []
  private current: Zigbee2MqttLightState = { ...INITIAL_STATE }
  private hung = false
  private dropsAhead = 0
  private online = true
  private readonly listeners = new Set<(request: Zigbee2MqttRequest) => void>()

  /** @internal Built by {@link Zigbee2MqttLights.start}. */
  constructor(
    readonly name: string,
    /** `<base>/<name>`. */
    readonly topic: string,
    private readonly client: MqttToolClient,
  ) {}

  /** The state as the light last published it. */
  get state(): Zigbee2MqttLightState {
    return this.current
  }

  /** A hung light takes commands and answers none (until `hang(false)`): no state is published. */
  hang(hung: boolean): void {
    this.hung = hung
  }

  /** The next `count` commands are lost on the way (neither applied nor answered), like a dropped radio frame. */
  dropNext(count = 1): void {
    this.dropsAhead += count
  }

  /** Publishes `online`/`offline` on `<topic>/availability` (retained), as Zigbee2MQTT does for a light it lost. */
  async setAvailability(online: boolean): Promise<void> {
    this.online = online
    await this.publishAvailability()
  }

  /** Changes the light as a remote, a wall switch or the Zigbee2MQTT frontend would, and publishes its new state. */
  async changeFromApp(changes: Zigbee2MqttLightState): Promise<void> {
    this.apply(changes)
    await this.publishState()
  }

  /** Calls `listener` with every command from now on; returns the unsubscribe function. */
  onCommand(listener: (request: Zigbee2MqttRequest) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** @internal Subscribes to `/set` and `/get` and publishes availability and state. */
  async start(): Promise<void> {
    await this.client.subscribeAcked(`${this.topic}/set`, (message) => this.onSet(message.payload))
    await this.client.subscribeAcked(`${this.topic}/get`, () => void this.publishState().catch(() => undefined))
    await this.announce()
  }

  /** @internal Publishes availability and state (retained): at start, and again after a broker restart. */
  async announce(): Promise<void> {
    await this.publishAvailability()
    await this.publishState()
  }

  /** @internal Publishes `offline` (retained), as Zigbee2MQTT does when it stops. */
  async retire(): Promise<void> {
    this.online = false
    await this.publishAvailability()
  }

  private onSet(payload: Buffer): void {
    let command: Record<string, unknown>
    try {
      const parsed: unknown = JSON.parse(payload.toString('utf8'))
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return
      command = parsed as Record<string, unknown>
    } catch {
      return // Zigbee2MQTT ignores what it cannot parse, too.
    }
    const outcome = this.hung ? 'hung' : this.dropsAhead > 0 ? 'dropped' : 'answered'
    if (outcome === 'dropped') this.dropsAhead--
    const entry: Zigbee2MqttRequest = { at: Date.now(), command, outcome }
    this.requests.push(entry)
    if (this.requests.length > REQUEST_LOG_LIMIT) this.requests.splice(0, this.requests.length - REQUEST_LOG_LIMIT)
    for (const listener of [...this.listeners]) listener(entry)
    if (outcome !== 'answered') return
    const { transition: _transition, ...changes } = command
    this.apply(changes)
    void this.publishState().catch(() => undefined) // a broker gone mid-publish: announce() repeats it on reconnect
  }

  private apply(changes: Zigbee2MqttLightState): void {
    const next = { ...this.current, ...changes }
    if (changes.color !== undefined) next.color_mode = 'xy'
    if (changes.color_temp !== undefined) next.color_mode = 'color_temp'
    this.current = next
  }

  private async publishState(): Promise<void> {
    await this.client.publish(this.topic, JSON.stringify(this.current), { retain: true, qos: 1 })
  }

  private async publishAvailability(): Promise<void> {
    const state = this.online ? 'online' : 'offline'
    await this.client.publish(`${this.topic}/availability`, JSON.stringify({ state }), { retain: true, qos: 1 })
  }
}

/** How long {@link Zigbee2MqttLights.stop} waits to say goodbye on the broker before it disconnects anyway. */
const GOODBYE_MS = 2000

/**
 * Zigbee2MQTT-style colour lights on a real broker: each takes JSON commands on `<base>/<name>/set`
 * (`state`, `brightness` 0–254, `color` {x,y} or {r,g,b}, `color_temp` mireds, `transition`), answers
 * `<base>/<name>/get`, and publishes its state retained on `<base>/<name>` and `online` on
 * `<base>/<name>/availability`. `<base>/bridge/state` is `online`, and `offline` (the will) if the simulator dies.
 * After a broker restart it announces everything again, since a broker without persistence forgot it. This is what
 * `genlock sim mqtt` serves and what the MQTT adapter's tests run against.
 *
 * @example
 * const lights = await Zigbee2MqttLights.start({ url: 'mqtt://127.0.0.1:1883', count: 2 })
 * // devices/bath.yaml: { id: bath, adapter: mqtt, topic: zigbee2mqtt/light_1 }
 * lights.light('light_1').hang(true)
 */
export class Zigbee2MqttLights {
  private readonly reconnectListeners = new Set<() => void>()

  private constructor(
    private readonly client: MqttToolClient,
    readonly baseTopic: string,
    readonly lights: readonly SimulatedZigbeeLight[],
  ) {}

  static async start(options: Zigbee2MqttLightsOptions): Promise<Zigbee2MqttLights> {
    const baseTopic = options.baseTopic ?? 'zigbee2mqtt'
    const client = await MqttToolClient.connect({
      url: options.url,
      clientIdPrefix: 'genlock_sim_z2m',
      username: options.username,
      password: options.password,
      will: { topic: `${baseTopic}/bridge/state`, payload: JSON.stringify({ state: 'offline' }) },
    })
    const names = options.names ?? Array.from({ length: options.count ?? 2 }, (_, i) => `light_${i + 1}`)
    const lights = names.map((name) => new SimulatedZigbeeLight(name, `${baseTopic}/${name}`, client))
    const simulator = new Zigbee2MqttLights(client, baseTopic, lights)
    for (const light of lights) await light.start()
    await simulator.publishBridgeState('online')
    client.onReconnect(() => void simulator.reannounce())
    return simulator
  }

  /** The light topics, e.g. `zigbee2mqtt/light_1`. */
  get topics(): string[] {
    return this.lights.map((light) => light.topic)
  }

  /** The light called `name`; throws for a name it does not have. */
  light(name: string): SimulatedZigbeeLight {
    const light = this.lights.find((candidate) => candidate.name === name)
    if (!light) throw new Error(`no simulated light '${name}' (have ${this.lights.map((l) => l.name).join(', ')})`)
    return light
  }

  /** Calls `listener` with every command a light receives. */
  onCommand(listener: (name: string, command: Record<string, unknown>) => void): () => void {
    const offs = this.lights.map((light) => light.onCommand((request) => listener(light.name, request.command)))
    return () => offs.forEach((off) => off())
  }

  /** Calls `listener` once everything was announced again after a reconnect. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener)
    return () => this.reconnectListeners.delete(listener)
  }

  /**
   * Marks every light and the bridge offline (retained) and disconnects. While the broker is unreachable it does not
   * wait for it (at most 2 s), so a stop always ends.
   */
  async stop(): Promise<void> {
    if (this.client.connected) {
      const goodbye = (async () => {
        for (const light of this.lights) await light.retire()
        await this.publishBridgeState('offline')
      })()
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        goodbye.catch(() => undefined),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, GOODBYE_MS))),
      ])
      clearTimeout(timer)
    }
    await this.client.close()
  }

  private async reannounce(): Promise<void> {
    try {
      for (const light of this.lights) await light.announce()
      await this.publishBridgeState('online')
    } catch {
      return // the broker went away again; the next reconnect announces once more
    }
    for (const listener of [...this.reconnectListeners]) listener()
  }

  private async publishBridgeState(state: 'online' | 'offline'): Promise<void> {
    await this.client.publish(`${this.baseTopic}/bridge/state`, JSON.stringify({ state }), { retain: true, qos: 1 })
  }
}

import { MqttToolClient } from '../mqtt/tool-client.js'

export interface Zigbee2MqttLightsOptions {
  /** The broker, e.g. mqtt://127.0.0.1:1883. */
  readonly url: string
  /** Zigbee2MQTT's base topic. Default `zigbee2mqtt`. */
  readonly baseTopic?: string
  /** Number of lights, named light_1, light_2, … Default 2. */
  readonly count?: number
  readonly username?: string
  readonly password?: string
}

/** One simulated light's state, as Zigbee2MQTT publishes it. */
export type Zigbee2MqttLightState = Record<string, unknown>

/**
 * Zigbee2MQTT-style colour lights on a real broker: each takes JSON commands on `<base>/<name>/set`
 * (`state`, `brightness` 0–254, `color` {x,y} or {r,g,b}, `color_temp` mireds, `transition`), answers
 * `<base>/<name>/get`, and publishes its state retained on `<base>/<name>` and `online` on
 * `<base>/<name>/availability`. `<base>/bridge/state` is `online`, and `offline` (the will) if the simulator dies.
 *
 * @example
 * const lights = await Zigbee2MqttLights.start({ url: 'mqtt://127.0.0.1:1883', count: 2 })
 * // devices/bath.yaml: { id: bath, adapter: mqtt, topic: zigbee2mqtt/light_1 }
 */
export class Zigbee2MqttLights {
  readonly states = new Map<string, Zigbee2MqttLightState>()
  private readonly listeners = new Set<(name: string, command: Record<string, unknown>) => void>()

  private constructor(
    private readonly client: MqttToolClient,
    readonly baseTopic: string,
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
    const lights = new Zigbee2MqttLights(client, baseTopic)
    for (let n = 1; n <= (options.count ?? 2); n++) {
      const name = `light_${n}`
      lights.states.set(name, {
        state: 'OFF',
        brightness: 254,
        color_mode: 'color_temp',
        color_temp: 370,
        color: { x: 0.4573, y: 0.41 },
      })
      await client.subscribeAcked(`${baseTopic}/${name}/set`, (message) => lights.onSet(name, message.payload))
      await client.subscribeAcked(`${baseTopic}/${name}/get`, () => void lights.publishState(name))
      await client.publish(`${baseTopic}/${name}/availability`, JSON.stringify({ state: 'online' }), {
        retain: true,
        qos: 1,
      })
      await lights.publishState(name)
    }
    await client.publish(`${baseTopic}/bridge/state`, JSON.stringify({ state: 'online' }), { retain: true, qos: 1 })
    return lights
  }

  /** The light topics, e.g. `zigbee2mqtt/light_1`. */
  get topics(): string[] {
    return [...this.states.keys()].map((name) => `${this.baseTopic}/${name}`)
  }

  /** Calls `listener` with every command a light receives. */
  onCommand(listener: (name: string, command: Record<string, unknown>) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Marks every light and the bridge offline (retained) and disconnects. */
  async stop(): Promise<void> {
    for (const name of this.states.keys()) {
      await this.client.publish(`${this.baseTopic}/${name}/availability`, JSON.stringify({ state: 'offline' }), {
        retain: true,
        qos: 1,
      })
    }
    await this.client.publish(`${this.baseTopic}/bridge/state`, JSON.stringify({ state: 'offline' }), {
      retain: true,
      qos: 1,
    })
    await this.client.close()
  }

  private onSet(name: string, payload: Buffer): void {
    let command: Record<string, unknown>
    try {
      const parsed: unknown = JSON.parse(payload.toString('utf8'))
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return
      command = parsed as Record<string, unknown>
    } catch {
      return // Zigbee2MQTT ignores what it cannot parse, too.
    }
    for (const listener of [...this.listeners]) listener(name, command)
    const { transition: _transition, ...changes } = command
    const next = { ...this.states.get(name), ...changes }
    if (changes.color !== undefined) next.color_mode = 'xy'
    if (changes.color_temp !== undefined) next.color_mode = 'color_temp'
    this.states.set(name, next)
    void this.publishState(name)
  }

  private async publishState(name: string): Promise<void> {
    await this.client.publish(`${this.baseTopic}/${name}`, JSON.stringify(this.states.get(name)), {
      retain: true,
      qos: 1,
    })
  }
}

import type { MqttToolClient } from '../mqtt/tool-client.js'

/** A device as the daemon publishes it (retained) at `<base>/device/<id>`. */
export interface PublishedDevice {
  readonly id: string
  readonly name?: string
  readonly adapter?: string
  readonly state?: {
    readonly on?: boolean
    readonly brightness?: number
    readonly color?: { r: number; g: number; b: number }
    readonly colorTemp?: number
    readonly reachable?: boolean
  }
  readonly holder?: string | null
  /** While a person's change holds the bulb: when the hold ends (ISO time), and how long that was at publishing. */
  readonly hold?: { readonly until?: string; readonly remaining_s?: number }
}

/** An automation as the daemon publishes it (retained) at `<base>/automation/<name>`. */
export interface PublishedAutomation {
  readonly name: string
  readonly state: string
  readonly lastError: string | null
}

/** What the daemon's retained topics say right now. */
export interface DaemonState {
  /** `<base>/status`: online, offline, or undefined when never published. */
  readonly status: string | undefined
  readonly devices: PublishedDevice[]
  readonly automations: PublishedAutomation[]
}

function parse(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'))
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** Reads the daemon's retained status, device and automation topics under `baseTopic`, sorted by id and name. */
export async function readDaemonState(client: MqttToolClient, baseTopic: string): Promise<DaemonState> {
  let status: string | undefined
  let seen = 0
  const devices = new Map<string, PublishedDevice>()
  const automations = new Map<string, PublishedAutomation>()
  const offs = [
    await client.subscribeAcked(`${baseTopic}/status`, (message) => {
      seen++
      status = message.payload.toString('utf8')
    }),
    await client.subscribeAcked(`${baseTopic}/device/+`, (message) => {
      seen++
      const id = message.topic.slice(baseTopic.length + '/device/'.length)
      const body = parse(message.payload)
      if (body) devices.set(id, { ...body, id } as PublishedDevice)
      else devices.delete(id)
    }),
    await client.subscribeAcked(`${baseTopic}/automation/+`, (message) => {
      seen++
      const name = message.topic.slice(baseTopic.length + '/automation/'.length)
      const body = parse(message.payload)
      if (body && typeof body.state === 'string') {
        const lastError = typeof body.last_error === 'string' ? body.last_error : null
        automations.set(name, { name, state: body.state, lastError })
      } else automations.delete(name)
    }),
  ]
  // mosquitto sends retained messages before anything published after the subscription, so one flush
  // suffices there; aedes (the embedded broker) streams them from its store and may let the flush overtake
  // the tail. So flush until a round trip brings nothing new (bounded).
  for (let round = 0; round < 10; round++) {
    const before = seen
    await client.flush()
    if (round > 0 && seen === before) break
  }
  for (const off of offs) off()
  return {
    status,
    devices: [...devices.values()].sort((a, b) => a.id.localeCompare(b.id)),
    automations: [...automations.values()].sort((a, b) => a.name.localeCompare(b.name)),
  }
}

import type { CommandSignal } from '../command-queue.js'
import type { DeviceLogger } from '../logger.js'
import { BridgeHttps, type BridgeConfig, type RequestSignal } from './bridge-https.js'
import { mergeV2Light, type V2Connectivity, type V2Light, type V2LightBody } from './clip-v2.js'
import { HueEventStream, type Backoff, type HueStreamEvent } from './event-stream.js'
import { RollingRateLimiter } from './rate-limiter.js'

/** Bridge software from this version on has CLIP v2 (Hue's developer documentation). */
export const FIRST_CLIP_V2_SWVERSION = 1_948_086_000

/** How to reach a bridge. Lights with the same host, port, key and trust share one client. */
export interface HueBridgeAddress {
  readonly host: string
  readonly port: number
  /** The application key (CLIP v1 calls it the username). */
  readonly key: string
  /** CAs to trust instead of the Hue bridge root CA (simulators, tests). PEM text. */
  readonly ca?: readonly string[]
  readonly streamBackoff?: Backoff
}

/** What a light hears from its bridge's event stream. */
export type LightPush =
  | { readonly kind: 'light'; readonly light: V2Light }
  | { readonly kind: 'connectivity'; readonly connected: boolean }
  /** The stream was reconnected: events may have been lost, read the light again. */
  | { readonly kind: 'resync' }

/** Which API the bridge is driven through, and why (for the log). */
export type BridgeApi = { readonly version: 'v2' } | { readonly version: 'v1'; readonly reason: string }

const clients = new Map<string, HueBridgeClient>()
/** Per bridge (host and port), whatever key or trust its clients use: the limit is the bridge's. */
const limiters = new Map<string, RollingRateLimiter>()

/**
 * One Hue bridge over HTTPS, shared by every light on it: the verified connection, the choice of API (CLIP v2
 * where the bridge's software has it, else CLIP v1), the v2 light list (for `id_v1` numbers and gamuts), the one
 * event stream, and the rate limit of ~10 light commands a second that Hue asks for per bridge.
 */
export class HueBridgeClient {
  readonly https: BridgeHttps
  readonly limiter: RollingRateLimiter
  private readonly lights = new Map<string, V2Light>()
  /** zigbee_connectivity by the device that owns it (a light's `owner.rid`). */
  private readonly connectivity = new Map<string, V2Connectivity>()
  private readonly listeners = new Map<string, Set<(push: LightPush) => void>>()
  private stream: HueEventStream | undefined
  private connecting: Promise<BridgeApi> | undefined
  private users = 0

  private constructor(
    readonly address: HueBridgeAddress,
    private readonly id: string,
    private readonly logger: DeviceLogger,
  ) {
    this.https = new BridgeHttps(address.host, address.port, address.ca ? { ca: address.ca } : {})
    const bridge = `${address.host}:${address.port}`
    let limiter = limiters.get(bridge)
    // ~10 light commands a second is what Hue asks of apps, per bridge.
    if (!limiter) limiters.set(bridge, (limiter = new RollingRateLimiter(10, 1000)))
    this.limiter = limiter
  }

  /** The shared client for `address`; call {@link release} once done with it. */
  static acquire(address: HueBridgeAddress, logger: DeviceLogger): HueBridgeClient {
    const id = JSON.stringify([address.host, address.port, address.key, address.ca ?? null])
    let client = clients.get(id)
    if (!client) clients.set(id, (client = new HueBridgeClient(address, id, logger)))
    client.users++
    return client
  }

  /** Gives the client back; the last user closes the stream and connections. */
  release(): void {
    if (--this.users > 0) return
    clients.delete(this.id)
    this.close()
  }

  /** `host:port` as logs name it. */
  get where(): string {
    return `${this.address.host}${this.address.port === 443 ? '' : `:${this.address.port}`}`
  }

  /**
   * Verifies the bridge, chooses the API and (for v2) reads the lights and opens the event stream — once; a
   * failure is forgotten so the next call tries again.
   */
  connect(signal?: RequestSignal): Promise<BridgeApi> {
    const connecting = (this.connecting ??= this.open(signal).catch((error: unknown) => {
      if (this.connecting === connecting) this.connecting = undefined
      throw error
    }))
    return connecting
  }

  /** The v2 lights read at connect, kept current by the event stream. */
  knownLights(): readonly V2Light[] {
    return [...this.lights.values()]
  }

  /** Whether the light's device answers the bridge, as `zigbee_connectivity` last said (true when unknown). */
  connected(light: V2Light): boolean {
    const owner = light.owner?.rid
    const status = owner ? this.connectivity.get(owner)?.status : undefined
    return status === undefined || status === 'connected'
  }

  /** Reads one light and its device's connectivity afresh. */
  async readLight(id: string, signal?: RequestSignal): Promise<V2Light> {
    const key = this.address.key
    const { body } = await this.https.json('GET', `/clip/v2/resource/light/${id}`, { key, signal })
    const light = (body as { data: V2Light[] }).data[0]!
    this.lights.set(id, light)
    const owner = light.owner?.rid
    const known = owner ? this.connectivity.get(owner) : undefined
    if (known) {
      const { body: zigbee } = await this.https.json('GET', `/clip/v2/resource/zigbee_connectivity/${known.id}`, {
        key,
        signal,
      })
      const fresh = (zigbee as { data: V2Connectivity[] }).data[0]
      if (fresh) this.connectivity.set(owner!, fresh)
    }
    return light
  }

  /** Sends one light command, within the bridge's rate limit. Resolves with the HTTP status (207: a warning). */
  async putLight(id: string, body: V2LightBody, signal: CommandSignal): Promise<{ status: number; body: unknown }> {
    await this.limiter.acquire(signal)
    return this.https.json('PUT', `/clip/v2/resource/light/${id}`, { key: this.address.key, body, signal })
  }

  /** Hears pushes for light `id`; returns the unsubscribe function. */
  follow(id: string, listener: (push: LightPush) => void): () => void {
    let set = this.listeners.get(id)
    if (!set) this.listeners.set(id, (set = new Set()))
    set.add(listener)
    return () => set.delete(listener)
  }

  private async open(signal?: RequestSignal): Promise<BridgeApi> {
    const config = await this.https.identify(signal)
    const api = chooseApi(config)
    if (api.version === 'v1') {
      this.logger.info(
        { bridge: config.bridgeid },
        `hue bridge ${config.bridgeid} at ${this.where}: CLIP v1 through node-hue-api (${api.reason})`,
      )
      return api
    }
    const key = this.address.key
    const [lights, zigbee] = await Promise.all([
      this.https.json('GET', '/clip/v2/resource/light', { key, signal }),
      this.https.json('GET', '/clip/v2/resource/zigbee_connectivity', { key, signal }),
    ])
    for (const light of (lights.body as { data: V2Light[] }).data) this.lights.set(light.id, light)
    for (const item of (zigbee.body as { data: V2Connectivity[] }).data)
      if (item.owner) this.connectivity.set(item.owner.rid, item)
    this.logger.info(
      { bridge: config.bridgeid },
      `hue bridge ${config.bridgeid} at ${this.where}: CLIP v2 over verified HTTPS, with the event stream`,
    )
    this.startStream(config.bridgeid)
    return api
  }

  private startStream(bridgeId: string): void {
    this.stream = new HueEventStream({
      open: () => this.https.openStream('/eventstream/clip/v2', this.address.key),
      onEvents: (events) => this.dispatch(events),
      onConnected: (again) => {
        if (again) this.broadcast({ kind: 'resync' })
      },
      logger: this.logger,
      description: `hue bridge ${bridgeId} at ${this.where}`,
      ...(this.address.streamBackoff ? { backoff: this.address.streamBackoff } : {}),
    })
    this.stream.start()
  }

  private dispatch(events: readonly HueStreamEvent[]): void {
    for (const event of events) {
      if (event.type !== 'update' && event.type !== 'add') continue
      for (const resource of event.data) {
        if (resource.type === 'light') {
          const known = this.lights.get(resource.id)
          const light = known ? mergeV2Light(known, resource as Partial<V2Light>) : (resource as unknown as V2Light)
          this.lights.set(light.id, light)
          this.notify(light.id, { kind: 'light', light })
        } else if (resource.type === 'zigbee_connectivity') {
          const item = resource as unknown as V2Connectivity
          const owner = item.owner?.rid
          if (!owner) continue
          this.connectivity.set(owner, { ...this.connectivity.get(owner), ...item })
          for (const light of this.lights.values())
            if (light.owner?.rid === owner)
              this.notify(light.id, { kind: 'connectivity', connected: item.status === 'connected' })
        }
      }
    }
  }

  private notify(id: string, push: LightPush): void {
    for (const listener of this.listeners.get(id) ?? []) listener(push)
  }

  private broadcast(push: LightPush): void {
    for (const id of this.listeners.keys()) this.notify(id, push)
  }

  private close(): void {
    this.stream?.stop()
    this.https.close()
  }
}

/** CLIP v2 when the bridge's software has it; CLIP v1 otherwise, with the reason. */
export function chooseApi(config: BridgeConfig): BridgeApi {
  const software = Number(config.swversion)
  if (Number.isFinite(software) && software >= FIRST_CLIP_V2_SWVERSION) return { version: 'v2' }
  return {
    version: 'v1',
    reason: `bridge software ${config.swversion ?? 'unknown'} is older than ${FIRST_CLIP_V2_SWVERSION}, the first with CLIP v2`,
  }
}

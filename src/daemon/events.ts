import type { AutomationStatus } from '../automation/index.js'
import type { BulbCommand, BulbEvent } from '../devices/bulb.js'
import type { ManualHoldView } from '../homeassistant/index.js'
import type { LockEvent } from '../lock/index.js'
import type { RunEvent } from '../automation/index.js'
import type { ReloadOutcome } from './reload.js'

/** Which devices a reload (or the first load) brought and took away; a replaced device is in both. */
export interface DevicesChange {
  readonly added: readonly string[]
  readonly removed: readonly string[]
}

/** Why the retained topics are wanted again. */
export type RepublishReason = 'reconnected' | 'homeassistant'

/** Whether genlock is ready on the broker: `online` was just published (true), or the connection was lost (false). */
export interface ConnectionChange {
  readonly online: boolean
}

/**
 * Everything the daemon tells its extensions, by name → listener arguments. Emitted synchronously, in the order
 * things happen; listeners run in the order they were added.
 */
export interface DaemonEventMap {
  /** A bulb reported a new state or went (un)reachable. */
  deviceEvent: [id: string, event: BulbEvent]
  /** A reload added, removed or replaced devices; `context.devices` already shows it. */
  devicesChanged: [change: DevicesChange]
  /** An automation's state or last error changed. */
  automationStatus: [status: AutomationStatus]
  /** Something happened in an automation run (forwarded from the engine; only while someone listens). */
  run: [event: RunEvent]
  /** Something happened to a device's lock: who waits, got it, lost it, let go. `context.holders` already shows it. */
  lock: [event: LockEvent]
  /** A reload (hot reload of devices/ and automations/) was applied. */
  reloaded: [outcome: ReloadOutcome]
  /** `<base>/status` went online (every subscription acknowledged, every automation armed), or we lost the broker. */
  connection: [change: ConnectionChange]
  /**
   * The retained topics may be gone, or someone asks for them again: the extensions that publish retained topics
   * publish them again. `reconnected`: we reconnected (emitted before `online` is published again, so a client that
   * sees `online` finds them); `homeassistant`: Home Assistant's birth message.
   */
  republishRequested: [reason: RepublishReason]
  /** A person's light command (Home Assistant): manual control applies it and holds the bulb. */
  manualCommand: [id: string, command: BulbCommand]
  /** What manual control of a bulb shows changed: a change waits, holds, or the hold ended. */
  manualHold: [id: string, hold: ManualHoldView]
  /**
   * The daemon begins to stop: stop starting new work (manual commands, reloads). The automations stop next, while
   * every extension still listens (so their last states are reported); then the extensions stop, in reverse order.
   */
  stopping: []
}

export type DaemonEventName = keyof DaemonEventMap

export type DaemonListener<K extends DaemonEventName> = (...args: DaemonEventMap[K]) => unknown

/** Whoever adds listeners: an extension (its `name` shows in the log when one of its listeners fails). */
export interface EventOwner {
  readonly name: string
}

/** The slice of a pino logger the event bus reports failing listeners to. */
export interface EventsLogger {
  error(fields: object, message?: string): void
}

interface Registration {
  readonly owner: EventOwner
  readonly name: DaemonEventName
  readonly listener: (...args: never[]) => unknown
}

/**
 * The daemon's typed event bus, in the spirit of zigbee2mqtt's eventBus: listeners are added by an owner and all
 * removed with one {@link DaemonEvents.removeListeners} call. A listener that throws (or rejects) is logged with its
 * owner and event and never ends the daemon, nor keeps the event from the other listeners.
 *
 * @example
 * context.events.on(this, 'automationStatus', (status) => publish(status))
 * // in stop():
 * context.events.removeListeners(this)
 */
export class DaemonEvents {
  private readonly listeners = new Map<DaemonEventName, Registration[]>()
  /** Per event, what starts a source when the first listener arrives, and what stopped it then. */
  private readonly sources = new Map<DaemonEventName, { start: () => () => void; stop?: (() => void) | undefined }>()

  constructor(private readonly logger: EventsLogger) {}

  /** Calls `listener` on every `name` event until `owner`'s listeners are removed. */
  on<K extends DaemonEventName>(owner: EventOwner, name: K, listener: DaemonListener<K>): void {
    const list = this.listeners.get(name) ?? []
    list.push({ owner, name, listener: listener as unknown as Registration['listener'] })
    this.listeners.set(name, list)
    if (list.length === 1) this.activate(name)
  }

  /** Removes every listener `owner` added. */
  removeListeners(owner: EventOwner): void {
    for (const [name, list] of this.listeners) {
      const kept = list.filter((registration) => registration.owner !== owner)
      if (kept.length === list.length) continue
      this.listeners.set(name, kept)
      if (kept.length === 0) this.deactivate(name)
    }
  }

  /** True while someone listens to `name`: emitters use it to skip building events nobody reads. */
  has(name: DaemonEventName): boolean {
    return (this.listeners.get(name)?.length ?? 0) > 0
  }

  emit<K extends DaemonEventName>(name: K, ...args: DaemonEventMap[K]): void {
    const list = this.listeners.get(name)
    if (!list || list.length === 0) return
    for (const registration of [...list]) {
      try {
        const result = (registration.listener as unknown as DaemonListener<K>)(...args)
        // A listener written as an arrow returning some value (`() => list.push(x)`) is not async.
        if (result instanceof Promise) result.catch((error: unknown) => this.failed(registration, error))
      } catch (error) {
        this.failed(registration, error)
      }
    }
  }

  /**
   * Connects a source that is costly to run with nobody listening (the engine's run events): `start` is called when
   * `name` gets its first listener and returns what stops it; that is called when the last listener goes.
   */
  source(name: DaemonEventName, start: () => () => void): void {
    this.sources.set(name, { start })
    if (this.has(name)) this.activate(name)
  }

  private activate(name: DaemonEventName): void {
    const source = this.sources.get(name)
    if (source && !source.stop) source.stop = source.start()
  }

  private deactivate(name: DaemonEventName): void {
    const source = this.sources.get(name)
    if (!source?.stop) return
    source.stop()
    source.stop = undefined
  }

  private failed(registration: Registration, error: unknown): void {
    this.logger.error(
      { extension: registration.owner.name, event: registration.name, err: (error as Error)?.message ?? String(error) },
      `${registration.owner.name}: its ${registration.name} listener failed: ${(error as Error)?.message ?? String(error)}`,
    )
  }
}

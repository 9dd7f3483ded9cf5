import type { Logger } from 'pino'
import type { Bulb } from '../devices/bulb.js'
import type { LockerFactory } from '../lock/index.js'
import { Automation, type AutomationEnvironment } from './automation.js'
import type { MessageBus } from '../bus/index.js'
import { CommandTracker } from './command-tracker.js'
import { compileSteps } from './compile.js'
import type { AutomationDefinition } from './definition.js'
import { MessageHub, type IncomingMessage } from './message-hub.js'
import { sharedLookups, type SharedLookups } from './scope.js'
import type { AutomationStatus } from './status.js'
import type { CompiledStep } from './step-scope.js'

export interface AutomationEngineOptions {
  /** The lock factory every automation's lockers come from (memory or Redis protocol). */
  readonly locks: LockerFactory
  /** Every device by id (the raw bulbs: automations only ever get fenced handles to them). */
  readonly devices: ReadonlyMap<string, Bulb>
  readonly bus: MessageBus
  /** Prefix of the command topics, e.g. `genlock` → `genlock/automation/<name>/set`. */
  readonly baseTopic: string
  readonly logger: Logger
  /** `mqtt.max_payload_bytes`: larger payloads are logged and dropped. Default 64 KiB. */
  readonly maxPayloadBytes?: number
  /**
   * How long putting one bulb back (`restore: true`) may take before it is given up, so a hung bulb cannot hold up
   * a shutdown. Default 3000 ms.
   */
  readonly restoreTimeoutMs?: number
}

/**
 * Runs automations: subscribes their triggers and stops, runs each as generator transactions under a lock on
 * its devices, and answers `<base>/automation/<name>/set` with `ON` (start) and `OFF` (stop).
 *
 * @example
 * const engine = new AutomationEngine({ locks: genLock(), devices, bus, baseTopic: 'genlock', logger })
 * engine.load(readAutomationFiles('automations', new Set(devices.keys())).definitions)
 * engine.on('status', (status) => publishStatus(status))
 * engine.start()
 * // …
 * await engine.stop()
 */
export class AutomationEngine {
  private devices: ReadonlyMap<string, Bulb>
  private definitions = new Map<string, AutomationDefinition>()
  private readonly automations = new Map<string, Automation>()
  /** Automations being disposed after a reload removed or changed them: they may still hold a device briefly. */
  private readonly retiring = new Set<Automation>()
  private readonly disposals = new Set<Promise<void>>()
  private readonly compiled = new Map<string, CompiledStep>()
  private readonly listeners = new Set<(status: AutomationStatus) => void>()
  private readonly lastEmitted = new Map<string, string>()
  private readonly hub: MessageHub
  private readonly shared: SharedLookups
  private readonly env: AutomationEnvironment
  private readonly logger: Logger
  private readonly baseTopic: string
  private unsubscribes: (() => void)[] = []
  private deviceUnsubscribes: (() => void)[] = []
  private started = false

  constructor(options: AutomationEngineOptions) {
    this.devices = options.devices
    this.logger = options.logger
    this.baseTopic = options.baseTopic.replace(/\/+$/, '')
    this.hub = new MessageHub(options.bus, options.logger, options.maxPayloadBytes)
    this.shared = sharedLookups(this.hub, () => this.devices)
    const devices = () => this.devices
    this.env = {
      locks: options.locks,
      get devices() {
        return devices()
      },
      hub: this.hub,
      shared: this.shared,
      commands: new CommandTracker(),
      logger: this.logger,
      compile: (name, targets) => this.compile(name, targets),
      restoreTimeoutMs: options.restoreTimeoutMs ?? 3000,
      statusChanged: (automation) => this.statusChanged(automation),
    }
  }

  /**
   * Sets the automations (first load and hot reload). Automations whose definition and devices did not change
   * keep running; changed or removed ones are stopped (restoring their bulbs where configured) and changed ones
   * start over idle. Pass `devices` when the device set changed.
   */
  load(definitions: readonly AutomationDefinition[], devices?: ReadonlyMap<string, Bulb>): void {
    if (devices) {
      this.devices = devices
      if (this.started) this.followDevices()
    }
    const next = new Map(definitions.map((definition) => [definition.name, definition]))
    for (const [name, automation] of this.automations) {
      const definition = next.get(name)
      if (definition && this.unchanged(automation, definition)) continue
      this.automations.delete(name)
      this.retire(automation, definition ? 'its file changed' : 'its file was removed')
    }
    this.definitions = next
    this.compiled.clear()
    this.build()
  }

  /** Subscribes every automation's triggers and stops, and the command topic. */
  start(): void {
    if (this.started) return
    this.started = true
    this.build()
    for (const automation of this.automations.values()) automation.start()
    this.unsubscribes.push(this.hub.watch(`${this.baseTopic}/automation/+/set`, (message) => this.onCommand(message)))
    this.followDevices()
  }

  /** Unsubscribes, cancels every run, releases locks and restores bulbs where configured. */
  async stop(): Promise<void> {
    this.started = false
    for (const unsubscribe of [...this.unsubscribes.splice(0), ...this.deviceUnsubscribes.splice(0)]) unsubscribe()
    for (const automation of [...this.automations.values()]) this.retire(automation, 'the engine is stopping')
    this.automations.clear()
    while (this.disposals.size > 0) await Promise.all([...this.disposals])
  }

  /** Every loaded automation's status. */
  status(): AutomationStatus[] {
    return [...this.automations.values()].map((automation) => automation.status())
  }

  /** The automation holding `deviceId` right now (running under its lock), if any. */
  holderOf(deviceId: string): string | undefined {
    for (const automation of [...this.automations.values(), ...this.retiring]) {
      if (automation.holds(deviceId)) return automation.name
    }
    return undefined
  }

  /** Calls `listener` whenever an automation's state or last error changes. Returns the unsubscribe function. */
  on(event: 'status', listener: (status: AutomationStatus) => void): () => void {
    if (event !== 'status') throw new TypeError(`unknown engine event '${String(event)}'`)
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  // --- internals --------------------------------------------------------------------------------------

  /** Creates automations for definitions that have none (after load, or a stop). */
  private build(): void {
    for (const definition of this.definitions.values()) {
      if (this.automations.has(definition.name)) continue
      let automation: Automation
      try {
        automation = new Automation(definition, this.env)
      } catch (error) {
        this.logger.error({ automation: definition.name, err: error }, `cannot load automation: ${String(error)}`)
        continue
      }
      this.automations.set(definition.name, automation)
      if (this.started) automation.start()
      this.statusChanged(automation)
    }
  }

  private unchanged(automation: Automation, definition: AutomationDefinition): boolean {
    if (JSON.stringify(automation.definition) !== JSON.stringify(definition)) return false
    return definition.devices.every((id, i) => this.devices.get(id) === automation.bulbs[i])
  }

  private retire(automation: Automation, reason: string): void {
    this.retiring.add(automation)
    // A removed automation gets no last status event: the daemon clears its retained topic itself.
    const disposal = automation.dispose(reason).finally(() => {
      this.retiring.delete(automation)
      this.disposals.delete(disposal)
      if (!this.automations.has(automation.name)) this.lastEmitted.delete(automation.name)
    })
    this.disposals.add(disposal)
  }

  private compile(name: string, targets: readonly string[]): CompiledStep | undefined {
    const key = `${name}\u0000${targets.join('\u0000')}`
    let steps = this.compiled.get(key)
    if (!steps) {
      const definition = this.definitions.get(name)
      if (!definition) return undefined
      steps = compileSteps(definition.steps, targets)
      this.compiled.set(key, steps)
    }
    return steps
  }

  private onCommand(message: IncomingMessage): void {
    const name = message.topic.slice(this.baseTopic.length + '/automation/'.length, -'/set'.length)
    const automation = this.automations.get(name)
    if (!automation) {
      this.logger.warn({ topic: message.topic }, `command for unknown automation '${name}' dropped`)
      return
    }
    if (message.retain) {
      // A command is an action, not a state: a retained ON would start the automation again at every reconnect.
      this.logger.warn({ topic: message.topic }, 'retained command ignored (publish commands without retain)')
      return
    }
    const command = message.payload.trim().toUpperCase()
    if (command === 'ON') automation.fire(message, 'command ON')
    else if (command === 'OFF') void automation.stopRuns('command OFF')
    else
      this.logger.warn(
        { topic: message.topic },
        `command must be ON or OFF; dropped ${JSON.stringify(message.payload.slice(0, 40))}`,
      )
  }

  /** Device state changes re-check `wait_for` conditions. */
  private followDevices(): void {
    const previous = this.deviceUnsubscribes.splice(0)
    for (const unsubscribe of previous) unsubscribe()
    for (const bulb of this.devices.values()) {
      this.deviceUnsubscribes.push(bulb.subscribe(() => this.hub.changed()))
    }
  }

  private statusChanged(automation: Automation): void {
    if (this.automations.get(automation.name) !== automation) return
    this.emit(automation.status())
  }

  private emit(status: AutomationStatus): void {
    const key = JSON.stringify(status)
    if (this.lastEmitted.get(status.name) === key) return
    this.lastEmitted.set(status.name, key)
    for (const listener of [...this.listeners]) {
      try {
        listener(status)
      } catch (error) {
        this.logger.error({ err: error }, 'a status listener failed')
      }
    }
  }
}

import type { Logger } from 'pino'
import type { MessageBus } from '../bus/index.js'
import type { Bulb } from '../devices/bulb.js'
import type { BackendReachability, LockerFactory } from '../lock/index.js'
import { Automation, type AutomationServices } from './automation.js'
import { systemClock, type Clock } from './clock.js'
import { CommandTracker } from './command-tracker.js'
import { compileAutomation, type CompiledAutomation } from './compile.js'
import type { AutomationDefinition } from './definition.js'
import { expressionLookups } from './expression-context.js'
import { linkAutomations } from './link.js'
import { localTime, nowView } from './local-time.js'
import { MessageHub, type IncomingMessage } from './message-hub.js'
import { RunEvents, type RunEvent } from './run-events.js'
import type { Location, ScheduleSetting } from './schedule.js'
import { restoreDevice } from './restore.js'
import { RunJournal, type RunJournalStore } from './run-journal.js'
import { ScheduleMemory, type ScheduleStore } from './schedule-memory.js'
import type { AutomationStatus } from './status.js'

export interface AutomationEngineOptions {
  /** The lock factory every automation's lockers come from (memory or Redis protocol). */
  readonly locks: LockerFactory
  /**
   * Whether that protocol's backend answers (RedisProtocol.backend): a run that could not get its lock because it
   * did not waits for it to come back (`lock.outage_wait`) instead of failing. Absent: runs fail as any other.
   */
  readonly lockBackend?: BackendReachability | undefined
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
  /**
   * Where automations get their time: schedules, `for:`, `wait`, `wait_for` timeouts, `now`, run event stamps.
   * Default the system clock; tests use it on fake timers, `genlock simulate` can pass a virtual one.
   */
  readonly clock?: Clock
  /** config.yaml `timezone`: the IANA zone of `at`, `cron`, time windows and `now`. Default the machine's own. */
  readonly timezone?: string
  /** config.yaml `location`: where `sun` triggers are computed. Without it they are not armed (and logged). */
  readonly location?: Location
  /**
   * Keeps the catch-up record of schedule triggers between runs: the data dir's state file,
   * `new StateFile({ path: join(dataDir, 'schedules.json'), validate: readScheduleRecord, logger })`.
   * Without it catch-up only covers a stop and start of this engine.
   */
  readonly scheduleStore?: ScheduleStore
  /**
   * Where the engine notes the runs going and what their bulbs were before (the data dir's state file,
   * `new StateFile({ path: join(dataDir, 'runs.json'), validate: readRunJournal, logger })`), so that after a crash
   * the next start puts back the bulbs a crashed run left. Without it a crash leaves them as they were.
   */
  readonly runJournal?: RunJournalStore
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
  /** What the last `load` linked and compiled, by automation name. */
  private plans = new Map<string, CompiledAutomation>()
  private readonly automations = new Map<string, Automation>()
  /** Automations being disposed after a reload removed or changed them: they may still hold a device briefly. */
  private readonly retiring = new Set<Automation>()
  private readonly disposals = new Set<Promise<void>>()
  private readonly listeners = new Set<(status: AutomationStatus) => void>()
  private readonly lastEmitted = new Map<string, string>()
  private readonly hub: MessageHub
  private readonly runEvents: RunEvents
  private readonly services: AutomationServices
  private readonly logger: Logger
  private readonly baseTopic: string
  private readonly setting: ScheduleSetting
  private unsubscribes: (() => void)[] = []
  private deviceUnsubscribes: (() => void)[] = []
  private started = false
  private crashed: Promise<string[]> | undefined

  constructor(options: AutomationEngineOptions) {
    this.devices = options.devices
    this.logger = options.logger
    this.baseTopic = options.baseTopic.replace(/\/+$/, '')
    this.hub = new MessageHub(options.bus, options.logger, options.maxPayloadBytes)
    const clock = options.clock ?? systemClock
    const timeZone = options.timezone
    if (timeZone !== undefined) {
      try {
        localTime(clock.now(), timeZone)
      } catch {
        throw new RangeError(`unknown time zone '${timeZone}': use an IANA name such as Europe/Berlin`)
      }
    }
    this.setting = { timeZone, location: options.location }
    this.runEvents = new RunEvents(options.logger, clock)
    let runs = 0
    this.services = {
      locks: options.locks,
      hub: this.hub,
      lookups: expressionLookups(this.hub, () => this.devices, nowView(clock, timeZone)),
      commands: new CommandTracker(),
      events: this.runEvents,
      clock,
      lockBackend: options.lockBackend,
      timeZone,
      memory: new ScheduleMemory(options.scheduleStore, options.logger),
      journal: new RunJournal(options.runJournal, options.logger),
      devices: () => this.devices,
      logger: this.logger,
      restoreTimeoutMs: options.restoreTimeoutMs ?? 3000,
      nextRunId: () => ++runs,
    }
  }

  /**
   * Sets the automations (first load and hot reload): links the set (a duplicate name or a `replace` that
   * cannot work is logged) and compiles each. Automations whose definition and devices did not change keep
   * running (with what replaces them relinked); changed or removed ones are stopped (restoring their bulbs where
   * configured) and changed ones start over idle. Pass `devices` when the device set changed.
   */
  load(definitions: readonly AutomationDefinition[], devices?: ReadonlyMap<string, Bulb>): void {
    if (devices) {
      this.devices = devices
      if (this.started) this.followDevices()
    }
    const linked = linkAutomations(definitions)
    for (const problem of linked.problems) {
      const { name, file } = problem.automation
      const field = problem.field.join('.')
      this.logger.error({ automation: name, file, field }, `automation ${name}: ${field}: ${problem.message}`)
    }
    const plans = new Map(
      linked.automations.map((automation) => [automation.definition.name, compileAutomation(automation, this.setting)]),
    )
    for (const [name, automation] of this.automations) {
      const plan = plans.get(name)
      if (plan && this.unchanged(automation, plan.definition)) {
        automation.relink(plan.replacement)
        continue
      }
      this.automations.delete(name)
      this.retire(automation, plan ? 'its file changed' : 'its file was removed')
    }
    this.plans = plans
    this.build()
  }

  /**
   * Arms every automation's triggers and stops (subscriptions, schedules, bulb listeners), and subscribes the
   * command topic. Reads the catch-up record of schedules (when a store is given) and catches up once it is read.
   */
  start(): void {
    if (this.started) return
    this.started = true
    void this.services.memory.load()
    for (const automation of this.automations.values()) automation.start()
    this.build()
    this.unsubscribes.push(this.hub.watch(`${this.baseTopic}/automation/+/set`, (message) => this.onCommand(message)))
    this.followDevices()
    this.crashed ??= this.putBackCrashedRuns()
  }

  /**
   * The automations the last daemon left running without ending them (killed, a power cut), once their bulbs were
   * put back where they had a `restore` snapshot. Empty after a clean stop.
   */
  crashedRuns(): Promise<string[]> {
    return (this.crashed ??= this.putBackCrashedRuns())
  }

  /** Puts back the bulbs runs of a crashed daemon left, at the lowest priority: never over anyone holding them. */
  private async putBackCrashedRuns(): Promise<string[]> {
    const left = await this.services.journal.left()
    const { locks, restoreTimeoutMs } = this.services
    await Promise.all(
      Object.entries(left).flatMap(([name, { devices }]) => {
        const ids = Object.keys(devices)
        this.logger.warn(
          { automation: name, devices: ids },
          `${name} was running when genlock last stopped without ending it` +
            (ids.length > 0 ? `; putting ${ids.join(', ')} back as before it` : ''),
        )
        return Object.entries(devices).map(([id, state]) => {
          const bulb = this.devices.get(id)
          if (!bulb) {
            this.logger.warn({ automation: name, device: id }, `cannot put ${id} back: it is no longer configured`)
            return undefined
          }
          const locker = locks.newLocker(id, bulb, {}, `automation:${name}`)
          return restoreDevice(id, locker, Promise.resolve(state), name, restoreTimeoutMs, this.logger)
        })
      }),
    )
    if (Object.keys(left).length > 0) this.services.journal.leftoversHandled()
    return Object.keys(left)
  }

  /** Unsubscribes, cancels every run, releases locks and restores bulbs where configured. */
  async stop(): Promise<void> {
    this.started = false
    for (const unsubscribe of [...this.unsubscribes.splice(0), ...this.deviceUnsubscribes.splice(0)]) unsubscribe()
    for (const automation of [...this.automations.values()]) this.retire(automation, 'the engine is stopping')
    this.automations.clear()
    while (this.disposals.size > 0) await Promise.all([...this.disposals])
    // The journal says nothing runs any more: a clean stop leaves nothing for the next start to put back.
    await this.services.journal.flushed()
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

  /**
   * `status`: calls `listener` whenever an automation's state or last error changes. `run`: calls it for every
   * run event (what started a run, each step and command, lock loss and recovery, the end). Returns the
   * unsubscribe function. A listener that throws is logged and does not disturb the runs.
   */
  on(event: 'status', listener: (status: AutomationStatus) => void): () => void
  on(event: 'run', listener: (event: RunEvent) => void): () => void
  on(
    event: 'status' | 'run',
    listener: ((status: AutomationStatus) => void) | ((event: RunEvent) => void),
  ): () => void {
    if (event === 'run') return this.runEvents.on(listener as (event: RunEvent) => void)
    if (event !== 'status') throw new TypeError(`unknown engine event '${String(event)}'`)
    const onStatus = listener as (status: AutomationStatus) => void
    this.listeners.add(onStatus)
    return () => this.listeners.delete(onStatus)
  }

  // --- internals --------------------------------------------------------------------------------------

  /** Creates automations for plans that have none (after load, or a stop). */
  private build(): void {
    for (const plan of this.plans.values()) {
      const { name, devices } = plan.definition
      if (this.automations.has(name)) continue
      const missing = devices.filter((id) => !this.devices.has(id))
      if (missing.length > 0) {
        this.logger.error(
          { automation: name },
          `cannot load automation ${name}: unknown device '${missing.join("', '")}'`,
        )
        continue
      }
      const bulbs = devices.map((id) => this.devices.get(id)!)
      const automation = new Automation(plan, bulbs, this.services, (changed) => this.statusChanged(changed))
      this.automations.set(name, automation)
      if (this.started) automation.start()
      this.statusChanged(automation)
    }
  }

  private unchanged(automation: Automation, definition: AutomationDefinition): boolean {
    if (JSON.stringify(automation.definition) !== JSON.stringify(definition)) return false
    for (const [id, bulb] of automation.watchedBulbs) if (this.devices.get(id) !== bulb) return false
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
    if (command === 'ON') automation.fire(message, 'command')
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

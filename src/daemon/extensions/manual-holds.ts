import type { BulbCommand, BulbEvent } from '../../devices/bulb.js'
import { ManualControl, releaseTopic } from '../../homeassistant/index.js'
import type { DaemonContext, Extension } from '../extension.js'

/**
 * A person's change holds the bulb (config.yaml `manual`): a Home Assistant light command (the `manualCommand`
 * event) or a state the bulb reported that genlock did not command (an outside change: the app, a wall switch, a
 * remote; per device `outside_changes: hold | ignore`) takes the bulb's lock at `manual.priority` and keeps it for
 * `manual.hold`. The hold ends when its time runs out, when a person switches the bulb off
 * (`manual.release_on_off`), or on `<base>/device/<id>/release` (Home Assistant's "Release manual hold" button).
 * What each bulb's manual control shows goes out as `manualHold` events ("Held by", HA's attributes).
 */
export class ManualHolds implements Extension {
  readonly name = 'manual-holds'
  private context!: DaemonContext
  private readonly controls = new Map<string, ManualControl>()
  private unsubscribe: (() => void) | undefined
  private stopped = false

  start(context: DaemonContext): void {
    this.context = context
    const { events, bus, config } = context
    events.on(this, 'deviceEvent', (id, event) => this.onDeviceEvent(id, event))
    events.on(this, 'manualCommand', (id, command) => this.onCommand(id, command))
    events.on(this, 'devicesChanged', () => this.follow())
    events.on(this, 'stopping', () => this.stop())
    this.unsubscribe = bus.subscribe(releaseTopic(config.mqtt.baseTopic, '+'), (message) => {
      // A release is an action: a retained one would end every new hold at each reconnect.
      if (message.retain) return
      const id = message.topic.slice(`${config.mqtt.baseTopic}/device/`.length, -'/release'.length)
      const control = this.controls.get(id)
      if (!control) {
        context.logger.warn({ topic: message.topic }, `release for unknown device '${id}' dropped`)
        return
      }
      control.release('released on request')
    })
    this.follow()
  }

  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.unsubscribe?.()
    for (const control of this.controls.values()) control.close()
    this.controls.clear()
  }

  private onCommand(id: string, command: BulbCommand): void {
    const control = this.controls.get(id)
    if (!control) this.context.logger.warn({ device: id }, `manual command for unknown device '${id}' dropped`)
    else control.change(command, 'homeassistant')
  }

  private onDeviceEvent(id: string, event: BulbEvent): void {
    if (event.type !== 'state' || !event.outside) return
    const control = this.controls.get(id)
    if (!control || this.context.deviceConfig(id)?.outside_changes === 'ignore') return
    this.context.logger.info({ device: id, state: event.state }, `${id} was changed outside genlock: a manual change`)
    control.change(event.state, 'outside')
  }

  /** One manual control per bulb: new bulbs get one, removed or replaced ones let theirs go. */
  private follow(): void {
    if (this.stopped) return
    const { devices, locks, config, logger, events } = this.context
    for (const [id, control] of [...this.controls]) {
      if (devices.get(id) === control.bulb) continue
      control.close()
      this.controls.delete(id)
    }
    for (const [id, bulb] of devices) {
      if (this.controls.has(id)) continue
      const control: ManualControl = new ManualControl(
        locks,
        bulb,
        config.manual,
        logger.child({ component: 'manual' }),
        () => events.emit('manualHold', id, control.view()),
      )
      this.controls.set(id, control)
    }
  }
}

import { HomeAssistant } from '../../homeassistant/index.js'
import type { DaemonContext, Extension } from '../extension.js'

/**
 * Home Assistant over MQTT (src/homeassistant), as a daemon extension: discovery of automations and bulbs, the
 * "held by" sensors (they read the state topics), the "Release manual hold" buttons, and HA's light commands as
 * manual changes (handed to manual control as `manualCommand` events). It follows
 * reloads, announces everything again after a reconnect, and asks for the state topics again on HA's birth.
 */
export class HomeAssistantExtension implements Extension {
  readonly name = 'homeassistant'
  private homeassistant: HomeAssistant | undefined

  start(context: DaemonContext): void {
    const { config, events } = context
    const settings = config.homeassistant
    const homeassistant = new HomeAssistant({
      bus: context.bus,
      baseTopic: config.mqtt.baseTopic,
      prefix: settings.prefix,
      // Manual control (the manual-holds extension) applies it and holds the bulb.
      manualCommand: (id, command) => events.emit('manualCommand', id, command),
      devices: context.devices,
      automations: context.engine,
      logger: context.logger.child({ component: 'homeassistant' }),
      republishStates: () => events.emit('republishRequested', 'homeassistant'),
    })
    this.homeassistant = homeassistant
    homeassistant.start()
    events.on(this, 'reloaded', () => homeassistant.sync())
    events.on(this, 'manualHold', (id, hold) => homeassistant.manualChanged(id, hold))
    // A light command still waiting for the alarm to end must not be applied as the daemon goes down.
    events.on(this, 'stopping', () => void homeassistant.stop())
    events.on(this, 'republishRequested', (reason) => {
      // After a reconnect: a broker restarted without persistence lost every retained config, and HA would lose
      // the entities at its next restart. (On HA's birth it republished already, before asking.)
      if (reason === 'reconnected') homeassistant.republish()
    })
  }

  async stop(): Promise<void> {
    await this.homeassistant?.stop()
  }
}

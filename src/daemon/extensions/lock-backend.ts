import { lockBackendDiscovery } from '../../homeassistant/index.js'
import type { DaemonContext, Extension } from '../extension.js'

/**
 * Makes an outage of the lock backend (Redis) visible (issue 13.11): the retained `<base>/locks` topic says
 * `{"state":"online"|"offline","backend":"redis"}` and follows every change, and with Home Assistant discovery on
 * a connectivity sensor shows it. Nothing is published for the in-memory locks, which cannot go away.
 */
export class LockBackendState implements Extension {
  readonly name = 'lock-backend'
  private unwatch: (() => void) | undefined

  start(context: DaemonContext): void {
    const backend = context.lockBackend
    if (!backend) return
    const { bus, config, events, logger } = context
    const publish = (topic: string, payload: string) =>
      bus
        .publish(topic, payload, { retain: true, qos: 1 })
        .catch((error: Error) => logger.warn({ topic, err: error.message }, 'lock backend state publish failed'))
    const publishState = () =>
      publish(
        `${config.mqtt.baseTopic}/locks`,
        JSON.stringify({ state: backend.reachable ? 'online' : 'offline', backend: config.locks.backend }),
      )
    const publishDiscovery = () => {
      if (!config.homeassistant.discovery) return
      const message = lockBackendDiscovery({ baseTopic: config.mqtt.baseTopic, prefix: config.homeassistant.prefix })
      void publish(message.topic, JSON.stringify(message.config))
    }
    this.unwatch = backend.onChange(() => void publishState())
    events.on(this, 'republishRequested', () => {
      publishDiscovery()
      void publishState()
    })
    publishDiscovery()
    void publishState()
  }

  stop(): void {
    this.unwatch?.()
    this.unwatch = undefined
  }
}

/**
 * The trigger path as the broker sees it: what genlock writes when a trigger arrives, in which order.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startDefaultMosquitto, type ServiceProcess } from '../support/services.js'
import { Observer } from '../mqtt/observer.js'
import { startTestDaemon, type TestDaemon } from './harness.js'

const LAMP = 'id: lamp\nadapter: mqtt\ntopic: zigbee2mqtt/lamp\n'
const GO = `name: go
devices: [lamp]
trigger:
  - mqtt: home/go
steps:
  - set: { on: true, brightness: "{{ trigger.json.b }}" }
`

describe('the trigger path', () => {
  let mosquitto: ServiceProcess & { url: string }
  let running: TestDaemon | undefined

  beforeAll(async () => {
    mosquitto = await startDefaultMosquitto()
  })
  afterEach(async () => {
    await running?.daemon.stop()
    running = undefined
  })
  afterAll(async () => {
    await mosquitto.dispose()
  })

  /**
   * Starts the daemon, waits until `topic` shows `settled`, triggers `go`, and returns what reached a subscriber of
   * both `topic` and the lamp's command topic, in order, up to the first command: each `topic` message as
   * `describe` names it, the command as 'command'. One subscriber for both: the broker hands it one publisher's
   * messages in the order they were published.
   */
  async function seenUpToTheCommand(
    subtopic: string,
    settled: string,
    describe: (payload: string) => string,
  ): Promise<string[]> {
    running = await startTestDaemon(mosquitto.url, { devices: { 'lamp.yaml': LAMP }, automations: { 'go.yaml': GO } })
    const topic = `${running.baseTopic}/${subtopic}`
    const watcher = await Observer.connect(mosquitto.url, ['zigbee2mqtt/lamp/set', topic])
    try {
      await watcher.waitForPayload(topic, (payload) => payload.includes(settled))
      const from = watcher.mark
      await watcher.publish('home/go', '{"b":40}')
      await watcher.waitFor((m) => m.topic === 'zigbee2mqtt/lamp/set', from)
      return watcher.seen.slice(from).map((m) => (m.topic === topic ? describe(m.payload) : 'command'))
    } finally {
      await watcher.close()
    }
  }

  // A client reacting to `running` must reach the broker before the light's answer to the command: behind the
  // answer it would wait ~40 ms on a mosquitto with Nagle on (see StateTopics).
  it("writes the automation's running state ahead of the run's first bulb command", async () => {
    const order = await seenUpToTheCommand(
      'automation/go',
      '"idle"',
      (payload) => (JSON.parse(payload) as { state: string }).state,
    )
    expect(order.slice(0, 2)).toEqual(['running', 'command'])
  })

  // In the command's segment rather than a socket write of its own after it (see StateTopics).
  it("writes the run's new holder of the bulb ahead of the run's first bulb command", async () => {
    const order = await seenUpToTheCommand(
      'device/lamp',
      '"holder":null',
      (payload) => `holder ${(JSON.parse(payload) as { holder: string }).holder}`,
    )
    expect(order.slice(0, 2)).toEqual(['holder go', 'command'])
  })
})

import type { IncomingMessage, ServerResponse } from 'node:http'
import { BodyError, readJsonBody, type HttpRoute } from '../../../http/index.js'
import type { DaemonContext } from '../../extension.js'

/** Commands go at QoS 1: a click must not be lost between the daemon and its broker. */
const COMMAND_QOS = 1

/**
 * `POST automation` `{ "name": "party", "command": "start" | "stop" }`: publishes what a person would,
 * `<base>/automation/<name>/set` `ON` / `OFF`, so the page starts and stops automations exactly as MQTT does.
 */
export function automationCommandRoute(context: DaemonContext): HttpRoute {
  return {
    method: 'POST',
    path: '/automation',
    handle: (request, response) =>
      answer(request, response, async (body) => {
        const name = field(body, 'name')
        const command = field(body, 'command')
        if (command !== 'start' && command !== 'stop') return [400, { error: 'command must be start or stop' }]
        if (!context.automations.some((definition) => definition.name === name)) {
          return [404, { error: `no automation named ${name}` }]
        }
        const topic = `${context.config.mqtt.baseTopic}/automation/${name}/set`
        await context.bus.publish(topic, command === 'start' ? 'ON' : 'OFF', { qos: COMMAND_QOS })
        return [202, { ok: true, topic }]
      }),
  }
}

/**
 * `POST release` `{ "device": "bath_bulb" }`: publishes `<base>/device/<id>/release`, the request that ends a
 * person's hold on a bulb (whoever keeps manual holds answers it).
 */
export function releaseRoute(context: DaemonContext): HttpRoute {
  return {
    method: 'POST',
    path: '/release',
    handle: (request, response) =>
      answer(request, response, async (body) => {
        const device = field(body, 'device')
        if (!context.devices.has(device)) return [404, { error: `no device ${device}` }]
        const topic = `${context.config.mqtt.baseTopic}/device/${device}/release`
        await context.bus.publish(topic, 'RELEASE', { qos: COMMAND_QOS })
        return [202, { ok: true, topic }]
      }),
  }
}

type Answer = readonly [status: number, body: object]

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  act: (body: unknown) => Promise<Answer>,
): Promise<void> {
  let status: number
  let body: object
  try {
    ;[status, body] = await act(await readJsonBody(request))
  } catch (error) {
    if (!(error instanceof BodyError)) throw error
    ;[status, body] = [error.status, { error: error.message }]
  }
  response.writeHead(status, { 'Content-Type': 'application/json' })
  response.end(JSON.stringify(body))
}

function field(body: unknown, name: string): string {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined
  if (typeof value !== 'string' || value === '') throw new BodyError(400, `the body needs "${name}": a string`)
  return value
}

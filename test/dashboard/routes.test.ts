/**
 * The dashboard's routes through the daemon (real mosquitto): what the actions publish, what the state and the
 * event stream carry, and that the daemon's listener applies the config's token.
 */
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALARM, PARTY, simBulb } from '../cli/setup-files.js'
import { startTestDaemon, type TestDaemon } from '../daemon/harness.js'
import { postJson, send } from '../http/support.js'
import { Observer } from '../mqtt/observer.js'
import { freePort, startMosquitto, type ServiceProcess } from '../support/services.js'

const TOKEN = 'dashboard-token-0123456789'

describe('the dashboard routes on the daemon', () => {
  let mosquitto: ServiceProcess & { url: string }
  let mqtt: Observer
  let running: TestDaemon
  let port: number

  beforeAll(async () => {
    mosquitto = await startMosquitto()
    mqtt = await Observer.connect(mosquitto.url)
    port = await freePort()
    process.env.TEST_DASHBOARD_TOKEN = TOKEN
    running = await startTestDaemon(
      mosquitto.url,
      {
        devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
        automations: { 'party.yaml': PARTY, 'alarm.yaml': ALARM },
      },
      `http: { port: ${port}, token: "\${TEST_DASHBOARD_TOKEN}" }\n`,
    )
  })
  afterAll(async () => {
    delete process.env.TEST_DASHBOARD_TOKEN
    await running?.daemon.stop()
    await mqtt?.close()
    await mosquitto?.dispose()
  })

  const auth = { authorization: `Bearer ${TOKEN}` }

  it('refuses the page, the state and the actions without the token', async () => {
    for (const path of ['/', '/app.js', '/state', '/events']) expect((await send(port, path)).status).toBe(401)
    expect((await postJson(port, '/automation', { name: 'party', command: 'start' })).status).toBe(401)
  })

  it('serves the page with a policy that allows its own script and style only, with relative URLs', async () => {
    const page = await send(port, '/', { headers: auth })
    expect(page.status).toBe(200)
    expect(page.headers['content-security-policy']).toContain("script-src 'self'")
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'self'")
    const urls = [...page.body.matchAll(/(?:href|src)="([^"]+)"/g)].map((match) => match[1])
    expect(urls).toEqual(['app.css', 'app.js'])
    const script = await send(port, '/app.js', { headers: auth })
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8')
    // Every URL the script uses is relative too (ingress serves the page under a path prefix).
    expect(script.body).toContain("new EventSource('events')")
    expect(script.body).not.toMatch(/['"]\/(?:events|automation|release|state)/)
  })

  it('start and stop publish <base>/automation/<name>/set ON and OFF, as a person would', async () => {
    const topic = `${running.baseTopic}/automation/party/set`
    const on = mqtt.waitForPayload(topic, 'ON', mqtt.mark)
    const started = await postJson(port, '/automation', { name: 'party', command: 'start' }, auth)
    expect(started.status).toBe(202)
    expect(JSON.parse(started.body)).toEqual({ ok: true, topic })
    await on
    await mqtt.waitForPayload(`${running.baseTopic}/automation/party`, (payload) => payload.includes('running'))
    const off = mqtt.waitForPayload(topic, 'OFF', mqtt.mark)
    expect((await postJson(port, '/automation', { name: 'party', command: 'stop' }, auth)).status).toBe(202)
    await off
  })

  it('release publishes <base>/device/<id>/release', async () => {
    const topic = `${running.baseTopic}/device/bath_bulb/release`
    const asked = mqtt.waitFor((m) => m.topic === topic, mqtt.mark)
    const answer = await postJson(port, '/release', { device: 'bath_bulb' }, auth)
    expect(answer.status).toBe(202)
    expect((await asked).payload).toBe('RELEASE')
  })

  it('answers unknown names and bad bodies without publishing anything', async () => {
    const mark = mqtt.mark
    const unknown = await postJson(port, '/automation', { name: 'nope', command: 'start' }, auth)
    expect(unknown).toMatchObject({ status: 404, body: '{"error":"no automation named nope"}' })
    expect((await postJson(port, '/automation', { name: 'party', command: 'pause' }, auth)).status).toBe(400)
    expect((await postJson(port, '/automation', { name: 42 }, auth)).status).toBe(400)
    expect((await postJson(port, '/release', { device: 'nope' }, auth)).status).toBe(404)
    const notJson = await send(port, '/release', {
      method: 'POST',
      body: '{',
      headers: { ...auth, 'content-type': 'application/json' },
    })
    expect(notJson).toMatchObject({ status: 400, body: '{"error":"request body is not JSON"}' })
    // A wildcard in a name would be a topic: it is not an automation, so nothing is published.
    expect((await postJson(port, '/automation', { name: '+', command: 'start' }, auth)).status).toBe(404)
    await mqtt.publish('test/marker', 'x')
    await mqtt.waitForPayload('test/marker', 'x', mark)
    const published = mqtt.seen.slice(mark).map((m) => m.topic)
    expect(published.filter((topic) => topic.endsWith('/set') || topic.endsWith('/release'))).toEqual([])
  })

  it('streams the state and the timeline as server-sent events', async () => {
    const frames = await firstFrames(port, 2)
    expect(frames.map((frame) => frame.event)).toEqual(['state', 'timeline'])
    const state = frames[0]!.data as {
      bulbs: { id: string; holder: unknown }[]
      automations: { name: string; priority: number }[]
      health: { online: boolean; locks: string }
    }
    expect(state.bulbs.map((bulb) => bulb.id)).toEqual(['bath_bulb'])
    expect(state.automations.map(({ name, priority }) => ({ name, priority }))).toEqual([
      { name: 'alarm', priority: 200 },
      { name: 'party', priority: 0 },
    ])
    expect(state.health).toMatchObject({ online: true, locks: 'memory' })
    const timeline = frames[1]!.data as { runs: { name: string; notes: { text: string }[] }[] }
    expect(timeline.runs.map((run) => run.name)).toContain('party')
    const json = await send(port, '/state', { headers: auth })
    expect(JSON.parse(json.body)).toMatchObject({ bulbs: [{ id: 'bath_bulb' }] })
  })

  // Last: it stops the daemon.
  it('ends open event streams when the daemon stops, and stops listening', async () => {
    const ended = new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/events', headers: auth }, (response) => {
        response.once('data', () => void running.daemon.stop())
        response.on('end', resolve)
        response.on('error', reject)
        response.resume()
      })
      req.on('error', reject)
      req.end()
    })
    await ended
    await running.daemon.stop()
    await expect(send(port, '/', { headers: auth })).rejects.toThrow(/ECONNREFUSED/)
  })

  /** The first `count` frames of the event stream, read as EventSource would. */
  function firstFrames(listenerPort: number, count: number): Promise<{ event: string; data: unknown }[]> {
    return new Promise((resolve, reject) => {
      const frames: { event: string; data: unknown }[] = []
      const req = request({ host: '127.0.0.1', port: listenerPort, path: '/events', headers: auth }, (response) => {
        expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8')
        let buffer = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          buffer += chunk
          let end
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message'
            const data = /^data: (.*)$/m.exec(block)?.[1]
            if (data !== undefined) frames.push({ event, data: JSON.parse(data) })
          }
          if (frames.length >= count) {
            req.destroy()
            resolve(frames.slice(0, count))
          }
        })
      })
      req.on('error', (error) => {
        if (frames.length < count) reject(error)
      })
      req.end()
    })
  }
})

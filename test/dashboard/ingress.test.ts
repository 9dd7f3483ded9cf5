/**
 * The dashboard as Home Assistant shows it: behind an ingress proxy that serves it under a path prefix and is the
 * one peer the daemon answers (`http.ingress_proxy`). A small stand-in for the Supervisor's proxy forwards
 * `/api/hassio_ingress/<token>/…` to the listener from 127.0.0.2, as the real one does from 172.30.32.2.
 */
import { createServer, request, type Server } from 'node:http'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PARTY, simBulb } from '../cli/setup-files.js'
import { startTestDaemon, type TestDaemon } from '../daemon/harness.js'
import { send } from '../http/support.js'
import { freePort, startMosquitto, type ServiceProcess } from '../support/services.js'

/** Generous: CI runs this beside every other integration test on two cores. */
const WAIT_MS = 15_000
const PREFIX = '/api/hassio_ingress/stand-in-token'
const PROXY_ADDRESS = '127.0.0.2'

/** Forwards `PREFIX/…` to `127.0.0.1:<target>/…` from PROXY_ADDRESS, streaming both ways (event streams too). */
function ingressProxy(target: number): Server {
  return createServer((incoming, outgoing) => {
    const url = incoming.url ?? '/'
    if (!url.startsWith(`${PREFIX}/`)) {
      outgoing.writeHead(404).end()
      return
    }
    const forwarded = request(
      {
        host: '127.0.0.1',
        port: target,
        localAddress: PROXY_ADDRESS,
        method: incoming.method,
        path: url.slice(PREFIX.length),
        headers: {
          ...incoming.headers,
          host: `127.0.0.1:${target}`,
          'x-forwarded-host': incoming.headers.host ?? '',
          'x-ingress-path': PREFIX,
        },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(outgoing)
      },
    )
    forwarded.on('error', () => outgoing.destroy())
    incoming.pipe(forwarded)
  })
}

describe('the dashboard behind Home Assistant ingress', () => {
  let mosquitto: ServiceProcess & { url: string }
  let browser: Browser
  let running: TestDaemon
  let proxy: Server
  let port: number
  let proxyPort: number

  beforeAll(async () => {
    mosquitto = await startMosquitto()
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] })
    port = await freePort()
    running = await startTestDaemon(
      mosquitto.url,
      { devices: { 'bath_bulb.yaml': simBulb('bath_bulb') }, automations: { 'party.yaml': PARTY } },
      `http: { port: ${port}, ingress_proxy: "${PROXY_ADDRESS}" }\n`,
    )
    proxyPort = await freePort()
    proxy = ingressProxy(port)
    await new Promise<void>((resolve) => proxy.listen(proxyPort, '127.0.0.1', resolve))
  })
  afterAll(async () => {
    await running?.daemon.stop()
    proxy?.closeAllConnections()
    await new Promise((resolve) => proxy?.close(resolve))
    await browser?.close()
    await mosquitto?.dispose()
  })

  it('works under the path prefix, through the proxy alone', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } })
    const requested: string[] = []
    page.on('request', (sent) => requested.push(new URL(sent.url()).pathname))
    await page.goto(`http://127.0.0.1:${proxyPort}${PREFIX}/`)
    await page.locator('#connection').filter({ hasText: 'live' }).waitFor({ timeout: WAIT_MS })
    await page.getByRole('button', { name: 'Start party' }).click()
    const holder = page.locator('[data-bulb="bath_bulb"] .holder')
    await holder.filter({ hasText: 'held by party (0)' }).waitFor({ timeout: WAIT_MS })
    // Every request the page made stayed under the prefix: nothing asked for the proxy's root.
    expect(requested).toEqual(
      expect.arrayContaining([`${PREFIX}/`, `${PREFIX}/app.js`, `${PREFIX}/events`, `${PREFIX}/automation`]),
    )
    for (const path of requested) expect(path.startsWith(`${PREFIX}/`), path).toBe(true)
    await page.close()
    // Straight to the daemon, not through the proxy: refused.
    expect((await send(port, '/')).status).toBe(403)
  }, 90_000)
})

import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { HttpListener, readJsonBody, type AccessRules, type HttpRoute } from '../../src/http/index.js'
import { postJson, send } from './support.js'

const TOKEN = 'a-token-of-twenty-chars'

const silent = { info() {}, warn() {}, error() {} }

/** A GET page and a POST action that echoes its JSON body, as the dashboard's routes are. */
const routes: HttpRoute[] = [
  {
    method: 'GET',
    path: '/',
    handle: (_request, response) => void response.end('page'),
  },
  {
    method: 'POST',
    path: '/act',
    handle: async (request, response) => {
      response.end(JSON.stringify({ did: await readJsonBody(request) }))
    },
  },
]

const listeners: HttpListener[] = []
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((listener) => listener.stop()))
})

async function listen(rules: AccessRules = {}, host = '127.0.0.1'): Promise<number> {
  const listener = new HttpListener({ host, port: 0, logger: silent, ...rules }, routes)
  listeners.push(listener)
  await listener.start()
  return listener.port
}

describe('the HTTP listener on loopback without a token', () => {
  it('serves GET routes, and 404 / 405 for what it does not have', async () => {
    const port = await listen()
    const page = await send(port, '/')
    expect(page).toMatchObject({ status: 200, body: 'page' })
    expect(page.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' })
    expect((await send(port, '/nothing')).status).toBe(404)
    const wrongMethod = await send(port, '/act')
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.allow).toBe('POST')
  })

  it('answers loopback names only, so a DNS-rebinding page cannot reach it under its own name', async () => {
    const port = await listen()
    expect((await send(port, '/', { headers: { host: `localhost:${port}` } })).status).toBe(200)
    const rebound = await send(port, '/', { headers: { host: `attacker.example:${port}` } })
    expect(rebound.status).toBe(403)
    expect(rebound.body).toMatch(/loopback names only.*not attacker\.example/)
  })

  it('runs a same-origin JSON POST', async () => {
    const port = await listen()
    const answer = await postJson(port, '/act', { name: 'party' })
    expect(answer).toMatchObject({ status: 200, body: '{"did":{"name":"party"}}' })
  })
})

describe('POSTs change state, so they must come from the page itself', () => {
  it.each(['cross-site', 'same-site', 'none'])('refuses Sec-Fetch-Site: %s', async (site) => {
    const port = await listen()
    const answer = await postJson(port, '/act', {}, { 'sec-fetch-site': site })
    expect(answer.status).toBe(403)
    expect(answer.body).toContain(`cross-site request refused (Sec-Fetch-Site: ${site})`)
  })

  it('refuses an Origin that is not this listener when the browser sends no Sec-Fetch-Site', async () => {
    const port = await listen()
    const headers = { 'content-type': 'application/json' }
    const foreign = await send(port, '/act', {
      method: 'POST',
      body: '{}',
      headers: { ...headers, origin: 'http://attacker.example' },
    })
    expect(foreign.status).toBe(403)
    expect(foreign.body).toContain('Origin: http://attacker.example')
    const own = await send(port, '/act', {
      method: 'POST',
      body: '{}',
      headers: { ...headers, origin: `http://127.0.0.1:${port}` },
    })
    expect(own.status).toBe(200)
  })

  it('refuses a body that is not JSON (what a cross-site form would send)', async () => {
    const port = await listen()
    const form = await send(port, '/act', {
      method: 'POST',
      body: 'name=party',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    })
    expect(form.status).toBe(415)
  })
})

describe('with http.token', () => {
  it('refuses every request without it, GETs too', async () => {
    const port = await listen({ token: TOKEN })
    const page = await send(port, '/')
    expect(page.status).toBe(401)
    expect(page.body).toMatch(/needs its token.*\?token=/)
    expect((await postJson(port, '/act', {})).status).toBe(401)
    expect((await send(port, '/', { headers: { authorization: 'Bearer wrong-token-of-twenty' } })).status).toBe(401)
  })

  it('takes it as a bearer token, on any Host (the token is the defence there)', async () => {
    const port = await listen({ token: TOKEN })
    const answer = await send(port, '/', {
      headers: { authorization: `Bearer ${TOKEN}`, host: `genlock.lan:${port}` },
    })
    expect(answer).toMatchObject({ status: 200, body: 'page' })
    expect((await postJson(port, '/act', { a: 1 }, { authorization: `Bearer ${TOKEN}` })).status).toBe(200)
  })

  it('trades ?token= for an HttpOnly SameSite=Strict cookie and a relative redirect to the same page', async () => {
    const port = await listen({ token: TOKEN })
    const login = await send(port, `/?token=${TOKEN}`)
    expect(login.status).toBe(303)
    expect(login.headers.location).toBe('./')
    const cookie = login.headers['set-cookie']![0]!
    expect(cookie).toMatch(/^genlock_token=a-token-of-twenty-chars; HttpOnly; SameSite=Strict; Max-Age=\d+$/)
    const cookieHeader = cookie.split(';')[0]!
    expect((await send(port, '/', { headers: { cookie: cookieHeader } })).status).toBe(200)
    expect((await postJson(port, '/act', {}, { cookie: cookieHeader })).status).toBe(200)
    // Still not from another site, cookie or not.
    const crossSite = await postJson(port, '/act', {}, { cookie: cookieHeader, 'sec-fetch-site': 'cross-site' })
    expect(crossSite.status).toBe(403)
    expect((await send(port, '/?token=wrong-token-of-twenty')).status).toBe(401)
  })
})

describe('behind Home Assistant ingress (http.ingress_proxy)', () => {
  it('answers the proxy only', async () => {
    // Linux routes all of 127.0.0.0/8 to loopback: 127.0.0.2 stands in for the ingress proxy's 172.30.32.2.
    const port = await listen({ ingressProxy: '127.0.0.2' })
    const direct = await send(port, '/')
    expect(direct.status).toBe(403)
    expect(direct.body).toContain("only Home Assistant's ingress proxy (127.0.0.2) may connect")
    const proxied = await send(port, '/', { localAddress: '127.0.0.2', headers: { host: 'local-genlock:8099' } })
    expect(proxied).toMatchObject({ status: 200, body: 'page' })
  })

  it("checks a POST's Origin against the host the proxy forwards (Home Assistant's own)", async () => {
    const port = await listen({ ingressProxy: '127.0.0.2' })
    const post = (origin: string) =>
      send(port, '/act', {
        method: 'POST',
        body: '{}',
        localAddress: '127.0.0.2',
        headers: {
          'content-type': 'application/json',
          host: 'local-genlock:8099',
          'x-forwarded-host': 'homeassistant.local:8123',
          origin,
        },
      })
    expect((await post('http://homeassistant.local:8123')).status).toBe(200)
    expect((await post('http://attacker.example')).status).toBe(403)
  })
})

it('says which address and config key when the port is taken', async () => {
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  const port = (taken.address() as { port: number }).port
  try {
    const listener = new HttpListener({ host: '127.0.0.1', port, logger: silent }, routes)
    await expect(listener.start()).rejects.toThrow(
      `http: 127.0.0.1:${port} is in use by another program; change http.port or http.host in the config`,
    )
  } finally {
    await new Promise((resolve) => taken.close(resolve))
  }
})

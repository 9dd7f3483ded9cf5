/**
 * Issue 13.12 (start-up), through the built package: bulbs that do not answer do not hold up start-up. Before,
 * each bulb's first probe was awaited in turn (four silent Hue addresses: ready after 8.4 s); now they start
 * together in the background, so `genlock ready` comes before any of them has been given up on.
 */
import { rmSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { writeSetup } from '../cli/setup-files.js'
import { builtCli, startBuiltDaemon } from '../support/built-genlock.js'
import { freePort } from '../support/services.js'

beforeAll(() => builtCli(), 180_000)

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

it('is ready before it gives up on four silent Hue bridges, and then reports each', async () => {
  // Accepts connections and never says a word: a bridge that is off the network but whose address answers.
  const sockets = new Set<Socket>()
  const silent = createServer((socket) => sockets.add(socket))
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const port = (silent.address() as { port: number }).port
  const hue = (n: number) =>
    `id: hue${n}\nadapter: hue\nhost: 127.0.0.1\nport: ${port}\ninsecure: true\nusername: key\nlight: ${n}\n`
  const { dir, configFile } = writeSetup({
    config: `mqtt: { embedded: true, port: ${await freePort()} }\nlog: { level: info, pretty: false }\n`,
    devices: Object.fromEntries([1, 2, 3, 4].map((n) => [`hue${n}.yaml`, hue(n)])),
  })
  dirs.push(dir)
  const daemon = await startBuiltDaemon(configFile)
  try {
    const ready = await daemon.ready()
    expect(ready).toMatchObject({ devices: 4 })
    const readyAt = daemon.logs.indexOf(ready)
    const unreachable = (n: number) =>
      daemon.waitForLog(
        (entry) => String(entry.msg).startsWith(`hue${n} (hue`) && String(entry.msg).includes('not reachable at start'),
      )
    const reports = await Promise.all([1, 2, 3, 4].map(unreachable))
    for (const report of reports) expect(daemon.logs.indexOf(report)).toBeGreaterThan(readyAt)
  } finally {
    expect((await daemon.stop()).code).toBe(0)
    for (const socket of sockets) socket.destroy()
    silent.close()
  }
}, 60_000)

/**
 * `genlock run` with the metrics extension on and its route served on 127.0.0.1:<port>, as the daemon's HTTP
 * listener will serve it once `http.metrics` is wired: bench/footprint's "metrics on" subject.
 *
 *   node metrics-daemon.mjs <config file> <port>
 */
import { createServer } from 'node:http'
import { Daemon } from '../../src/daemon/index.js'
import { Metrics } from '../../src/daemon/extensions/metrics/metrics.js'

const [configFile, port] = process.argv.slice(2)
if (!configFile || !port) throw new Error('usage: metrics-daemon <config file> <port>')
const metrics = new Metrics()
const daemon = await Daemon.start(configFile, { extensions: [metrics] })
const route = metrics.route()
const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost')
  if (request.method === route.method && url.pathname === route.path) void route.handle(request, response, url)
  else response.writeHead(404).end()
}).listen(Number(port), '127.0.0.1')
process.once('SIGTERM', () => {
  server.close()
  void daemon.stop().then(() => process.exit(0))
})

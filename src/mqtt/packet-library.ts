/**
 * mqtt-packet (the packet parser and writer of both mqtt.js and aedes), set up for a long-running daemon. Import
 * this module before anything that loads mqtt.js or aedes: both changes must be in place before mqtt-packet's
 * first packet, and the first one before mqtt-packet is even loaded.
 *
 * - Its `debug` loggers, when disabled, become plain no-op functions. mqtt-packet calls them a dozen times per
 *   packet, and the `debug` package's logger takes `...args`, so each call builds an array even when it then
 *   returns at once: 13 KB of the ~89 KB a daemon allocated per trigger on bench/e2e (heap sampling, issue 12), and
 *   young-generation collections are what the trigger latency's p99 is made of. With `DEBUG` set the real loggers
 *   are kept, so `DEBUG=mqtt-packet:*` still works.
 * - Its number cache is off: by default it builds, at its first packet, 65,536 two-byte Buffers, one for every
 *   packet id and length it may write: 6.5 MB of heap for the life of the process and ~40 ms of start-up (issue 18:
 *   a third of the heap a ready daemon holds beyond node's own). Without it each such number is a 2-byte Buffer
 *   made as it is written, which costs no measurable CPU per trigger (paired runs, 10,000 triggers). The switch is
 *   the module's own (`writeToStream.cacheNumbers`), global to the process: it holds for the client and the
 *   embedded broker alike.
 */
import { createRequire } from 'node:module'

type DebugFactory = ((namespace: string) => { enabled: boolean }) & Record<string, unknown>

const require = createRequire(import.meta.url)
const packetEntry = require.resolve('mqtt-packet')

if (!process.env.DEBUG) quietDisabledLoggers(createRequire(packetEntry).resolve('debug'))
;(require(packetEntry) as { writeToStream: { cacheNumbers: boolean } }).writeToStream.cacheNumbers = false

/** Makes the `debug` module at `path` hand out a no-op function for every namespace that is not enabled. */
function quietDisabledLoggers(path: string): void {
  const factory = require(path) as DebugFactory
  const cached = require.cache[path]
  if (!cached) return
  const quiet = Object.assign((namespace: string) => {
    const logger = factory(namespace)
    return logger.enabled ? logger : disabled
  }, factory)
  cached.exports = quiet
}

function disabled(): void {}
disabled.enabled = false
disabled.extend = () => disabled

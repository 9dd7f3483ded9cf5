/**
 * Loaded into a benchmark's subject with `node --import`: times how long the subject itself holds each trigger,
 * from the moment the trigger's PUBLISH is read off a socket to the moment the command it causes is handed to the
 * kernel (the socket's own write, after any cork). What is left of the end-to-end time is outside the subject: the
 * broker's two hops, the bench's client, and the machine's scheduling.
 *
 * BENCH_SOCKET_TIMING is JSON `{ "out": "<folder>", "pairs": [["<trigger topic>", "<command topic>"], ...] }`. At
 * exit the process writes `<folder>/<pid>.json`: per trigger topic, `[qos, read µs, written µs]` for each trigger,
 * in order, on the system's monotonic clock (the same for every process on the machine).
 *
 * Plain node runs this file (type stripping): erasable TypeScript only, node built-ins only.
 */
import { writeFileSync } from 'node:fs'
import { Socket } from 'node:net'
import { join } from 'node:path'

interface Settings {
  out: string
  pairs: [string, string][]
}

interface Pair {
  trigger: Buffer
  command: string
  /** When the current trigger was read (µs), and its QoS; 0 while none waits for its command. */
  readAt: number
  qos: number
  times: [number, number, number][]
}

const settings = JSON.parse(process.env.BENCH_SOCKET_TIMING ?? 'null') as Settings | null
if (settings) install(settings)

function install({ out, pairs: spec }: Settings): void {
  const pairs: Pair[] = spec.map(([trigger, command]) => ({
    trigger: Buffer.from(trigger),
    command,
    readAt: 0,
    qos: 0,
    times: [],
  }))
  const emit = Socket.prototype.emit as (this: Socket, event: string | symbol, ...args: unknown[]) => boolean
  Socket.prototype.emit = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'data' && Buffer.isBuffer(args[0])) noteTriggers(pairs, args[0])
    return emit.call(this, event, ...args)
  }
  const writev = Socket.prototype._writev!
  Socket.prototype._writev = function (this: Socket, chunks, callback) {
    noteCommands(
      pairs,
      chunks.map(({ chunk }) => chunk as unknown),
    )
    return writev.call(this, chunks, callback)
  }
  const write = Socket.prototype._write
  Socket.prototype._write = function (this: Socket, chunk, encoding, callback) {
    noteCommands(pairs, [chunk as unknown])
    return write.call(this, chunk, encoding, callback)
  }
  process.once('exit', () => {
    const result = Object.fromEntries(pairs.map((pair) => [pair.trigger.toString(), pair.times]))
    writeFileSync(join(out, `${process.pid}.json`), JSON.stringify(result))
  })
}

/** A PUBLISH of a pair's trigger topic in `chunk` (fixed header, one length byte, topic length, topic). */
function noteTriggers(pairs: Pair[], chunk: Buffer): void {
  for (const pair of pairs) {
    const at = chunk.indexOf(pair.trigger)
    if (at < 4 || chunk[at - 4]! >> 4 !== 3 || chunk.readUInt16BE(at - 2) !== pair.trigger.length) continue
    pair.readAt = now()
    pair.qos = (chunk[at - 4]! >> 1) & 3
  }
}

function noteCommands(pairs: Pair[], chunks: unknown[]): void {
  for (const pair of pairs) {
    if (pair.readAt === 0) continue
    const carries = chunks.some((chunk) =>
      typeof chunk === 'string' ? chunk.includes(pair.command) : Buffer.isBuffer(chunk) && chunk.includes(pair.command),
    )
    if (!carries) continue
    pair.times.push([pair.qos, pair.readAt, now()])
    pair.readAt = 0
  }
}

/** The monotonic clock in µs (process.hrtime: CLOCK_MONOTONIC, shared by every process on the machine). */
function now(): number {
  return Number(process.hrtime.bigint()) / 1000
}

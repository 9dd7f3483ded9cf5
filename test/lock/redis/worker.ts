/**
 * A child process with its own Redis client that runs gen-lock transactions on its parent's orders (see
 * workers.ts). Its "bulb" is remote: every command goes to the parent over IPC and waits for the answer, so
 * the parent sees every command in order, with the fencing token it was sent under, and paces the steps.
 */
import genLock from '../../../src/lock/index.js'
import type { LockEvent } from '../../../src/lock/index.js'
import { isLockError } from '../../../src/lock/errors.js'
import { redisProtocol, type RedisProtocol } from '../../../src/lock/redis/index.js'

export type ToWorker =
  | { type: 'init'; url: string; keyPrefix: string; lease: number; handoffTimeout?: number }
  | { type: 'run'; tx: string; resource: string; priority: number; steps: number; deferredStep?: number }
  | { type: 'reply'; rid: number }
  | { type: 'go'; tx: string }
  | { type: 'close' }

export type FromWorker =
  | { type: 'ready' }
  | { type: 'event'; event: LockEvent }
  | { type: 'command'; rid: number; tx: string; step: number; token: number; resource: string }
  | { type: 'recover'; tx: string; code: string }
  | { type: 'done'; tx: string }
  | { type: 'failed'; tx: string; code: string | undefined; message: string }
  | { type: 'fenced'; tx: string; message: string }
  | { type: 'awaiting-go'; tx: string }
  | { type: 'closed' }

interface RemoteBulb {
  command(tx: string, step: number, token: number): Promise<void>
}

const send = (message: FromWorker) => process.send!(message)
const replies = new Map<number, () => void>()
const goes = new Map<string, () => void>()
let nextRid = 0
let protocol: RedisProtocol | undefined

function remoteBulb(resource: string): RemoteBulb {
  return {
    command(tx, step, token) {
      const rid = nextRid++
      return new Promise<void>((resolve) => {
        replies.set(rid, resolve)
        send({ type: 'command', rid, tx, step, token, resource })
      })
    },
  }
}

function run(order: Extract<ToWorker, { type: 'run' }>): void {
  const factory = genLock({}, protocol!)
  // The transaction's name is its lockerGuid, so the test can tell its lock events apart.
  const locker = factory.newLocker(order.resource, remoteBulb(order.resource), { priority: order.priority }, order.tx)
  const { tx, steps, deferredStep } = order
  locker
    .promise(function* (bulb, context) {
      for (let step = 0; step < steps; step++) {
        if (step === deferredStep) {
          // The command is sent by code that outlives the step (a callback), as a stale holder's would be:
          // only the fenced handle stands between it and the bulb.
          const go = new Promise<void>((resolve) => goes.set(tx, resolve))
          send({ type: 'awaiting-go', tx })
          yield go.then(() => {
            try {
              return bulb.command(tx, step, context.token)
            } catch (error) {
              if (isLockError(error, 'FENCED')) send({ type: 'fenced', tx, message: error.message })
              throw error
            }
          })
        } else {
          yield bulb.command(tx, step, context.token)
        }
      }
    })
    .recover((ops, error) => {
      send({ type: 'recover', tx, code: error.code })
      return ops.resume()
    })
    .then(
      () => send({ type: 'done', tx }),
      (error: unknown) =>
        send({ type: 'failed', tx, code: isLockError(error) ? error.code : undefined, message: String(error) }),
    )
}

process.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'init':
      protocol = redisProtocol({
        url: message.url,
        keyPrefix: message.keyPrefix,
        lease: message.lease,
        handoffTimeout: message.handoffTimeout,
      })
      protocol.on((event) => send({ type: 'event', event }))
      send({ type: 'ready' })
      return
    case 'run':
      run(message)
      return
    case 'reply':
      replies.get(message.rid)?.()
      replies.delete(message.rid)
      return
    case 'go':
      goes.get(message.tx)?.()
      return
    case 'close':
      void protocol?.close().then(() => {
        send({ type: 'closed' })
        process.disconnect?.()
      })
      return
  }
})

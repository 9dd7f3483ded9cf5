import { randomBytes } from 'node:crypto'
import type { LockError, LockErrorCode } from '../errors.js'
import { reportListenerError, type LockLogger } from '../logger.js'
import type { AcquireRequest, BackendReachability, Lease, LockEvent, LockingProtocol } from '../protocol.js'
import { ProtocolBase } from '../protocol-base.js'
import { RedisConnections } from './connection.js'
import { Heartbeat, type Epoch } from './heartbeat.js'
import { RedisLease, type LeaseOwner } from './lease.js'
import { redactUrl, resolveRedisOptions, type RedisProtocolOptions, type ResolvedRedisOptions } from './options.js'

/** What the server tells a client on its channel (see scripts.ts). */
type Message =
  | readonly ['G', id: string, tokens: string[], victims: number]
  | readonly ['P', id: string, byGuid: string, byPriority: string, thiefClient: string, thiefId: string]
  | readonly ['L', id: string, code: LockErrorCode, reason: string]
  | readonly ['D', id: string, code: LockErrorCode, reason: string]
  | readonly ['A', thiefId: string]

type LossMessage = Extract<Message, readonly ['P' | 'L', ...unknown[]]>

/**
 * One acquisition on its way: `sending` (script in flight), `queued` (waiting on the server), `confirm`
 * (granted while this client's heartbeat was in doubt: a renewal must confirm it first), `handoff` (granted by
 * a steal: waiting for the victims' acknowledgements), `done`.
 */
interface Pending {
  /** The server's name for this acquisition; a new one when the server has forgotten the old (see `askAfresh`). */
  id: string
  readonly request: AcquireRequest
  state: 'sending' | 'queued' | 'confirm' | 'handoff' | 'done'
  /** The acquire script may have reached the server: giving up must withdraw it there. */
  sent: boolean
  resolve(lease: Lease): void
  reject(error: LockError): void
  timer: ReturnType<typeof setTimeout> | undefined
  handoffTimer: ReturnType<typeof setTimeout> | undefined
  onAbort: (() => void) | undefined
  acks: number
  victims: number
  tokens: string[] | undefined
  /**
   * The heartbeat epoch the grant arrived in: the grant is good only while that epoch lasts. A hand-off can
   * outlive it (the connection dropped, the server may have restarted and forgotten the grant).
   */
  epoch: Epoch<RedisLease> | undefined
  /** The grant was taken away again before it got here. */
  lostEarly: LossMessage | undefined
}

/**
 * Locks shared through one Redis by every process that uses the same `keyPrefix`: the in-memory protocol's
 * semantics (priority, preemption, FIFO within a priority, re-entrance, composite all-or-nothing grants,
 * lockTtl, acquireTimeout, maxAcquireAttempts) decided by Lua scripts on the server.
 *
 * - A strictly higher priority steals at once; the victim hears it on its channel, turns its lease invalid
 *   (its transaction takes no further step) and acknowledges; the thief starts after that, or after
 *   `handoffTimeout` if the victim is dead.
 * - This client's heartbeat (its "lease", default 5 s) is renewed every lease/3. A holder that cannot renew
 *   treats its locks as `LOST` before the server could give them away, and so does one whose connection
 *   drops (the server may have restarted, pub/sub messages may be missed).
 * - Waiters are woken by pub/sub, never by polling; a dead client's locks pass on at its heartbeat deadline.
 *
 * @example
 * const protocol = redisProtocol({ url: 'redis://pi.local:6379', keyPrefix: 'home' })
 * const { newLocker } = genLock({}, protocol)
 * // ...
 * await protocol.close()
 */
export class RedisProtocol extends ProtocolBase<RedisLease> implements LockingProtocol, LeaseOwner {
  /** This client's id on the server (leases, waiters and its channel hang off it). */
  readonly clientId = randomBytes(9).toString('base64url')
  private readonly options: ResolvedRedisOptions
  private readonly prefix: string
  /** The one declared key of every script: it names the hashtag's slot. */
  private readonly key: string
  private connecting: Promise<RedisConnections> | undefined
  private connections: RedisConnections | undefined
  /** Set once subscribed: acquisitions then skip waiting for the connection. */
  private ready: RedisConnections | undefined
  private readonly pending = new Map<string, Pending>()
  /** Lease and waiter ids to give back, batched within a tick (see sendRelease). */
  private releases: string[] = []
  private readonly leases = new Map<string, RedisLease>()
  private readonly heartbeat: Heartbeat<RedisLease>
  private seq = 0
  private down = false
  private readonly reachability: Reachability

  constructor(options: RedisProtocolOptions = {}) {
    const resolved = resolveRedisOptions(options)
    super(resolved.logger)
    this.options = resolved
    this.reachability = new Reachability(this.logger)
    this.prefix = `{${this.options.keyPrefix}}:`
    this.key = `${this.prefix}clients`
    this.heartbeat = new Heartbeat<RedisLease>(this.options, {
      renew: () => this.renew(),
      expire: (epoch, reason) => this.expireEpoch(epoch, reason),
    })
  }

  /** Whether Redis answers now: false from a dropped connection (or a failed first connect) until it is back. */
  get backend(): BackendReachability {
    return this.reachability
  }

  acquire(request: AcquireRequest): Promise<Lease> {
    const refused = this.refuse(request)
    if (refused) return refused
    return new Promise<Lease>((resolve, reject) => {
      const p: Pending = {
        id: `${this.clientId}.${(this.seq++).toString(36)}`,
        request,
        state: 'sending',
        sent: false,
        resolve,
        reject,
        timer: undefined,
        handoffTimer: undefined,
        onAbort: undefined,
        acks: 0,
        victims: 0,
        tokens: undefined,
        epoch: undefined,
        lostEarly: undefined,
      }
      this.pending.set(p.id, p)
      const timeout = request.acquireTimeout
      if (timeout > 0 && timeout !== Infinity) {
        p.timer = setTimeout(() => this.giveUp(p, 'ACQUIRE_TIMEOUT', `not granted within ${timeout} ms`), timeout)
      }
      void this.send(p)
    })
  }

  /** Takes every lease on `resource` away (code `LOST`), in every process: an operator's "unlock". */
  async revoke(resource: string): Promise<void> {
    const { command } = await this.connect()
    this.flushReleases()
    const taken = await command.genlockRevoke(this.key, this.prefix, resource)
    for (let i = 0; i + 1 < taken.length; i += 2) {
      // Ours are dropped now rather than when the channel message lands, so the caller sees the effect.
      const lease = taken[i] === this.clientId ? this.leases.get(taken[i + 1]!) : undefined
      if (lease) this.loseLease(lease, 'LOST', `the lock on ${resource} was revoked`, undefined, false)
    }
  }

  /** Withdraws every waiter, loses every lease (code `LOST`), gives them back on the server and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.heartbeat.stop()
    const ids: string[] = []
    for (const p of [...this.pending.values()]) {
      if (p.sent) ids.push(p.id)
      this.giveUp(p, 'LOST', 'the locking protocol closed', false)
    }
    for (const lease of [...this.leases.values()]) {
      ids.push(lease.id)
      this.loseLease(lease, 'LOST', 'the locking protocol closed', undefined, false)
    }
    ids.push(...this.flushReleases(true))
    const connections = this.connections
    if (!connections) return
    if (connections.command.status === 'ready') {
      // Commands run in order on the connection: once these are answered, every release sent before is done.
      const done = Promise.all([
        ids.length > 0 && connections.command.genlockRelease(this.key, this.prefix, ...ids),
        connections.command.zrem(this.key, this.clientId),
      ]).catch(() => undefined)
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, 1000)))])
      clearTimeout(timer)
    }
    await connections.close()
  }

  // --- talking to the server --------------------------------------------------------------------------

  private connect(): Promise<RedisConnections> {
    if (this.connecting) return this.connecting
    const { url } = this.options
    this.connecting = RedisConnections.open(url, `${this.prefix}c:${this.clientId}`, {
      message: (text) => this.onMessage(text),
      ready: () => this.onReady(),
      down: (error) => this.onDown(error),
    }).then(async (connections) => {
      this.reachability.set(true)
      this.connections = connections
      if (this.closed) await connections.close()
      await connections.subscribed
      this.ready = connections
      return connections
    })
    this.connecting.catch((error: unknown) => {
      this.reachability.set(false)
      this.options.logger?.warn({ url: redactUrl(url), err: error }, 'genlock: cannot set up the Redis client')
      this.connecting = undefined
    })
    return this.connecting
  }

  private async send(p: Pending): Promise<void> {
    let connections = this.ready
    if (!connections || connections.command.status !== 'ready') this.watchAbort(p) // this may take a while
    if (!connections) {
      try {
        connections = await this.connect()
      } catch (error) {
        this.giveUp(p, 'LOST', `cannot use Redis at ${redactUrl(this.options.url)}: ${messageOf(error)}`)
        return
      }
      if (isDone(p)) return
    }
    const r = p.request
    const mayWait = r.maxAcquireAttempts > 1 && r.acquireTimeout > 0
    p.sent = true
    this.heartbeat.keepAlive()
    const sent = this.heartbeat.now()
    let reply: [string, string?, number?]
    try {
      reply = await connections.command.genlockAcquire(
        this.key,
        this.prefix,
        p.id,
        this.clientId,
        this.options.lease,
        r.lockerGuid,
        String(r.priority),
        String(-r.priority),
        resourcesJson(r.resources),
        mayWait ? '1' : '0',
        r.maxAcquireAttempts === Infinity ? '' : String(r.maxAcquireAttempts),
        ...this.flushReleases(true),
      )
    } catch (error) {
      this.giveUp(p, 'LOST', `Redis refused the acquire: ${messageOf(error)}`)
      return
    }
    const current = this.heartbeat.extend(sent)
    if (isDone(p)) {
      // Given up while the script ran (or a resubmission raced a grant): whatever it got must go back.
      if (reply[0] !== 'F' && !this.leases.has(p.id)) this.sendRelease([p.id])
      return
    }
    if (!current) {
      // The connection dropped while the script ran (the reply was read after the drop): the server that answered
      // may have restarted since, forgetting the grant, and a grant taken on its word would run beside the holder
      // the new server picks. Ask again, under a new id (messages about this grant, a steal's P, may have come
      // meanwhile), and give this one back: a server that still has it frees it, one that forgot it does nothing.
      if (reply[0] !== 'F') this.sendRelease([p.id])
      this.askAfresh(p)
      return
    }
    const [kind, detail, victims] = reply
    if (r.signal?.aborted) {
      this.giveUp(p, 'CANCELLED', 'acquire aborted', kind !== 'F')
      return
    }
    if (kind === 'G') {
      this.granted(p, JSON.parse(detail!) as string[], Number(victims))
    } else if (kind === 'W') {
      if (p.state === 'sending') {
        p.state = 'queued'
        this.watchAbort(p)
        this.events.emitForRequest('waiting', r)
      }
      this.heartbeat.wakeAt(Number(detail))
    } else if (r.maxAcquireAttempts <= 1) {
      this.giveUp(p, 'ALREADY_LOCKED', 'locked by another holder', false)
    } else {
      this.giveUp(p, 'ACQUIRE_TIMEOUT', 'not granted within 0 ms', false)
    }
  }

  /**
   * Gives ids back on the server. Batched until the end of this tick: a transaction loop's next acquire
   * then carries them (one command instead of two). Every other command flushes them first, so the server
   * always sees this client's commands in the order they were made.
   */
  private sendRelease(ids: string[]): void {
    if (!this.connections) return
    if (this.releases.length === 0) process.nextTick(this.flushLater)
    this.releases.push(...ids)
  }

  private readonly flushLater = (): void => {
    this.flushReleases()
  }

  /** Sends batched releases now; returns them for a command that carries them itself (`take`). */
  private flushReleases(take = false): string[] {
    const ids = this.releases
    if (ids.length === 0) return ids
    this.releases = []
    if (take) return ids
    this.connections?.command
      .genlockRelease(this.key, this.prefix, ...ids)
      .catch((error: unknown) => this.options.logger?.warn({ err: error, ids }, 'genlock: Redis release failed'))
    return []
  }

  private onMessage(text: string): void {
    let message: Message
    try {
      message = JSON.parse(text) as Message
    } catch {
      return
    }
    switch (message[0]) {
      case 'G': {
        const p = this.pending.get(message[1])
        if (p) this.granted(p, message[2], message[3])
        return
      }
      case 'P':
      case 'L': {
        const lease = this.leases.get(message[1])
        if (lease) this.applyLoss(lease, message)
        else {
          const p = this.pending.get(message[1])
          if (p) p.lostEarly = message
        }
        if (message[0] !== 'P') return
        // Acknowledged once the lease is invalid (the victim takes no further step) and its in-flight step has
        // landed, so the thief's first command never races the victim's last one at the bulb. A victim that
        // hangs there is covered by the thief's hand-off timeout.
        if (lease) void lease.drained.then(() => this.acknowledge(message[4], message[5]))
        else this.acknowledge(message[4], message[5])
        return
      }
      case 'D': {
        const p = this.pending.get(message[1])
        if (p) this.giveUp(p, message[2], message[3], false)
        return
      }
      case 'A':
        this.onAck(message[1])
        return
    }
  }

  private acknowledge(thiefClient: string, thiefId: string): void {
    if (thiefClient === this.clientId) {
      queueMicrotask(() => this.onAck(thiefId))
      return
    }
    this.flushReleases()
    const published = this.connections?.command.publish(
      `${this.prefix}c:${thiefClient}`,
      JSON.stringify(['A', thiefId]),
    )
    published?.catch(() => undefined) // the thief's hand-off timeout covers a lost acknowledgement
  }

  private onAck(thiefId: string): void {
    const p = this.pending.get(thiefId)
    if (!p) return
    p.acks++
    if (p.state === 'handoff' && p.acks >= p.victims) this.finish(p)
  }

  private onReady(): void {
    if (this.closed) return
    if (this.down) this.options.logger?.warn({ url: redactUrl(this.options.url) }, 'genlock: Redis is back')
    this.down = false
    this.reachability.set(true)
    this.heartbeat.renewIn(0) // the server may have restarted: find out at once what it still knows
  }

  /**
   * A connection dropped. The server may have restarted (forgetting our leases) and pub/sub messages, steals
   * among them, may be lost: holding on could let two holders run, so every lease is lost now.
   */
  private onDown(error: Error | undefined): void {
    if (this.closed) return
    if (!this.down) {
      this.down = true
      this.options.logger?.warn(
        { url: redactUrl(this.options.url), err: error },
        'genlock: lost the Redis connection; held locks are lost, acquisitions wait for it',
      )
    }
    this.reachability.set(false)
    this.heartbeat.lapse('the connection to Redis was lost')
    // Replies may be long in coming now: let cancellation reach requests whose acquire is in flight.
    for (const p of [...this.pending.values()]) this.watchAbort(p)
  }

  // --- granting ---------------------------------------------------------------------------------------

  private granted(p: Pending, tokens: string[], victims: number): void {
    if (p.state === 'done' || p.state === 'handoff') return
    if (!this.heartbeat.alive) {
      // We cannot tell how long the server will keep this grant: a renewal decides (see renew).
      p.state = 'confirm'
      this.watchAbort(p)
      this.heartbeat.renewIn(0)
      return
    }
    p.tokens = tokens
    p.victims = victims
    p.epoch = this.heartbeat.epoch
    if (p.acks < victims) {
      p.state = 'handoff'
      this.watchAbort(p)
      clearTimeout(p.timer)
      p.handoffTimer = setTimeout(() => this.finish(p), this.options.handoffTimeout)
      return
    }
    this.finish(p)
  }

  private finish(p: Pending): void {
    if (p.state === 'done') return
    this.settle(p)
    const r = p.request
    const tokens: Record<string, number> = {}
    r.resources.forEach((resource, i) => (tokens[resource] = Number(p.tokens![i])))
    // The epoch of the grant, not the current one: after a drop and a renewal the current epoch speaks for a server
    // that may have restarted since the grant (its counter too), and a grant taken into it would run beside the
    // holder that server picks. An epoch that ended never comes back, so one still alive is the current one.
    const epoch = p.epoch!
    const lease = new RedisLease(this, p.id, epoch, r.resources, r.lockerGuid, r.priority, tokens, this.logger)
    this.leases.set(p.id, lease)
    if (epoch.alive) this.heartbeat.join(lease)
    if (r.lockTtl !== Infinity) {
      lease.ttlDeadline = this.heartbeat.now() + r.lockTtl
      lease.ttlTimer = setTimeout(
        () => this.loseLease(lease, 'EXPIRED', `lockTtl of ${r.lockTtl} ms reached`, undefined, true),
        r.lockTtl,
      )
    }
    this.events.emitForLease('acquired', lease)
    if (p.lostEarly) this.applyLoss(lease, p.lostEarly)
    else if (!epoch.alive)
      this.loseLease(lease, 'LOST', 'the Redis lease ran out or dropped during the hand-off', undefined, true)
    p.resolve(lease)
  }

  /**
   * Lets the request's signal withdraw it. Only once it may wait: an immediate grant checks `aborted` instead,
   * and on a fresh Node AbortSignal adding and removing a listener costs about 10 us, a Redis round trip.
   */
  private watchAbort(p: Pending): void {
    const signal = p.request.signal
    if (!signal || p.onAbort || p.state === 'done') return
    p.onAbort = () => this.giveUp(p, 'CANCELLED', 'acquire aborted')
    // Aborted while nobody listened (its acquire in flight): an abort event will not come again.
    if (signal.aborted) p.onAbort()
    else signal.addEventListener('abort', p.onAbort, { once: true })
  }

  /** The request leaves: it is settled one way or another. */
  private settle(p: Pending): void {
    p.state = 'done'
    this.pending.delete(p.id)
    clearTimeout(p.timer)
    clearTimeout(p.handoffTimer)
    if (p.onAbort) p.request.signal?.removeEventListener('abort', p.onAbort)
  }

  /** Rejects a request; `withdraw` (when its acquire may have reached the server) takes it back there. */
  private giveUp(p: Pending, code: LockErrorCode, message: string, withdraw = true): void {
    if (p.state === 'done') return
    this.settle(p)
    this.events.emitForRequest('gave-up', p.request, code)
    p.reject(this.error(code, message, p.request))
    if (withdraw && p.sent) this.sendRelease([p.id])
  }

  // --- holding ----------------------------------------------------------------------------------------

  releaseLease(lease: RedisLease): void {
    // Not awaited: later commands of this client queue behind it on the same connection, and the server
    // hands the lock on by itself.
    if (this.markReleased(lease)) this.sendRelease([lease.id])
  }

  private applyLoss(lease: RedisLease, message: LossMessage): void {
    if (message[0] === 'P') {
      const by = { lockerGuid: message[2], priority: Number(message[3]) }
      this.loseLease(lease, 'PREEMPTED', `preempted by priority ${message[3]}`, by, false)
    } else {
      this.loseLease(lease, message[2], message[3], undefined, false)
    }
  }

  /** Marks a lease lost; `giveBack` when the server may still think it is held. */
  private loseLease(
    lease: RedisLease,
    code: LockErrorCode,
    message: string,
    by: LockEvent['by'] | undefined,
    giveBack: boolean,
  ): void {
    if (this.lose(lease, code, message, by) && giveBack) this.sendRelease([lease.id])
  }

  protected detach(lease: RedisLease): void {
    lease.live = false
    clearTimeout(lease.ttlTimer)
    this.leases.delete(lease.id)
    lease.epoch.leases.delete(lease)
  }

  // --- the heartbeat (timing in heartbeat.ts) ---------------------------------------------------------

  private expireEpoch(epoch: Epoch<RedisLease>, reason: string): void {
    for (const lease of [...epoch.leases]) this.loseLease(lease, 'LOST', reason, undefined, true)
  }

  /**
   * Renews the heartbeat and reconciles with the server: leases it no longer has are lost, grants whose
   * message went missing are taken, waiters it forgot (a restart) are queued again.
   */
  private async renew(): Promise<boolean> {
    const connections = this.connections
    if (!connections || this.closed) return false
    const ids = [...this.leases.keys()]
    for (const p of this.pending.values()) if (p.state === 'queued' || p.state === 'confirm') ids.push(p.id)
    if (ids.length === 0 && this.pending.size === 0) return false // idle: the heartbeat may lapse
    const sent = this.heartbeat.now()
    let reply: string[]
    try {
      this.flushReleases()
      reply = await connections.command.genlockRenew(this.key, this.prefix, this.clientId, this.options.lease, ...ids)
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'genlock: Redis lease renewal failed')
      return true
    }
    // A reply read after the connection dropped describes the server from before: the next renewal asks again.
    if (!this.heartbeat.extend(sent)) return true
    let waiting = false
    const gone: RedisLease[] = []
    ids.forEach((id, i) => {
      const status = reply[i] ?? ''
      const lease = this.leases.get(id)
      if (lease) {
        if (status === '') gone.push(lease)
        return
      }
      const p = this.pending.get(id)
      if (!p || (p.state !== 'queued' && p.state !== 'confirm')) return
      if (status === 'W') waiting = true
      else if (status === '')
        this.askAfresh(p) // the server forgot it (restarted, or reaped us while unreachable)
      else {
        const [tokens, victims] = JSON.parse(status) as [string[], number]
        this.granted(p, tokens, victims)
      }
    })
    if (waiting) this.heartbeat.wakeAt(Number(reply[ids.length]))
    if (gone.length > 0) void this.loseGone(connections, gone)
    return true
  }

  /**
   * Leases the server no longer has. Whoever took them away told us on our channel before this renewal ran (a
   * steal's `P`, a reap's or a revoke's `L`), but that message comes on the subscriber connection and can be read
   * after the renewal's reply. Taken as LOST at once, a preempted lease would go to recovery as LOST instead of
   * PREEMPTED (no resume), and its acknowledgement would go to the thief without waiting for its in-flight step to
   * land. A PING on the subscriber connection comes back behind every message published before it: what is still
   * held then was taken away without a word, or the PING did not come back within `handoffTimeout` (as long as a
   * thief waits for our acknowledgement), and is LOST.
   */
  private async loseGone(connections: RedisConnections, gone: readonly RedisLease[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      connections.subscriber.ping().catch(() => undefined), // a drop loses every lease of the epoch (onDown)
      new Promise((resolve) => (timer = setTimeout(resolve, this.options.handoffTimeout).unref())),
    ])
    clearTimeout(timer)
    for (const lease of gone) {
      if (this.leases.get(lease.id) !== lease) continue
      this.loseLease(lease, 'LOST', 'the Redis server no longer has this lease', undefined, false)
    }
  }

  /**
   * Asks again for a request the server may have forgotten, under a new id. Messages about the forgotten grant may
   * still be on their way (its grant, its loss when the server reaped us, victims' acknowledgements): under the old
   * id they find nothing. Taken for the new request, the grant ran a holder the server no longer had, and the loss
   * lost the new grant without giving it back, so the server kept it for a client that goes on renewing.
   */
  private askAfresh(p: Pending): void {
    this.pending.delete(p.id)
    p.id = `${this.clientId}.${(this.seq++).toString(36)}`
    this.pending.set(p.id, p)
    p.state = 'sending'
    p.sent = false
    p.acks = 0
    p.victims = 0
    p.tokens = undefined
    p.epoch = undefined
    p.lostEarly = undefined
    void this.send(p)
  }
}

/** A locker asks with the same resources array every time: encode it once. */
const encodedResources = new WeakMap<readonly string[], string>()

function resourcesJson(resources: readonly string[]): string {
  let json = encodedResources.get(resources)
  if (json === undefined) {
    json = JSON.stringify(resources)
    encodedResources.set(resources, json)
  }
  return json
}

/** Reads the state afresh (TypeScript would keep a narrowing from before an await). */
function isDone(p: Pending): boolean {
  return p.state === 'done'
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * Creates a protocol whose locks are shared by every process using the same Redis and `keyPrefix`.
 * ioredis is loaded on first use.
 *
 * @example
 * const { newLocker } = genLock({}, redisProtocol({ url: process.env.REDIS_URL, keyPrefix: 'home' }))
 */
export function redisProtocol(options?: RedisProtocolOptions): RedisProtocol {
  return new RedisProtocol(options)
}

/** {@link BackendReachability} for the Redis protocol: reachable until told otherwise. */
class Reachability implements BackendReachability {
  reachable = true
  private readonly listeners = new Set<(reachable: boolean) => void>()

  constructor(private readonly logger: LockLogger) {}

  set(reachable: boolean): void {
    if (this.reachable === reachable) return
    this.reachable = reachable
    for (const listener of [...this.listeners]) {
      try {
        listener(reachable)
      } catch (error) {
        reportListenerError(this.logger, error, { reachable }, 'Redis reachability')
      }
    }
  }

  onChange(listener: (reachable: boolean) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}

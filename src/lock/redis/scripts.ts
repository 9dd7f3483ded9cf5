/**
 * The Lua scripts that make every locking decision on the Redis server, atomically. ioredis runs them with
 * EVALSHA and falls back to EVAL when the server answers NOSCRIPT (after a restart, say).
 *
 * Keys, all under one `{hashtag}` prefix K so a composite lock's keys share one cluster slot:
 * - `K clients`    zset  client id -> heartbeat deadline (server ms); a client past it is dead and reaped
 * - `K cl:<c>`     set   ids of the leases and waiters client c owns
 * - `K h:<r>`      hash  the hold on resource r: `_o` -> owner lockerGuid, and lease id -> priority per lease
 * - `K q:<r>`      zset  waiters for r: score -priority, member `<16-digit arrival>:<id>`, so equal scores sort
 *                        by arrival (Redis orders equal scores by member)
 * - `K qx:<r>`     zset  the waiters of `q:<r>` with a finite maxAcquireAttempts (same members): a grant counts
 *                        lost chances for these only, so its cost does not grow with the queue
 * - `K t:<r>`      string the fencing counter of r
 * - `K w:<id>`     hash  a waiter: g guid, p priority, c client, r resources (JSON), m queue member,
 *                        a attempts, x max attempts ('' for unlimited)
 * - `K l:<id>`     hash  a lease: c client, g guid, r resources (JSON), k tokens (JSON strings), v victims
 * - `K c:<c>`      channel of client c: grants, losses, drops, hand-off acknowledgements (JSON arrays)
 *
 * Every script first reaps dead clients, so a holder killed with -9 frees its locks at the first script
 * any live client runs after its heartbeat deadline (live waiters run one then, see `nextExpiry`).
 */

const LIBRARY = `
local K = ARGV[1]
local NOW, NOW_US
local dirty, dirtyList = {}, {}
-- What this script has read of holds and queue heads; each write to them forgets its entry.
local holds, heads = {}, {}

-- Server time, read once and only by scripts that need it (TIME costs as much as a command).
local function now()
  if not NOW then
    local t = redis.call('TIME')
    NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    NOW_US = tonumber(t[1]) * 1000000 + tonumber(t[2])
  end
  return NOW
end

-- Lua's tostring keeps 14 digits; tokens and deadlines need all of theirs.
local function int(n) return string.format('%d', n) end

local function markDirty(r)
  if not dirty[r] then dirty[r] = true; dirtyList[#dirtyList + 1] = r end
end

local function publish(client, message)
  redis.call('PUBLISH', K .. 'c:' .. client, cjson.encode(message))
end

-- The hold on r: owner guid, highest priority among its leases, its lease ids (nil when free).
local function hold(r)
  local cached = holds[r]
  if cached then return cached[1], cached[2], cached[3] end
  local h = redis.call('HGETALL', K .. 'h:' .. r)
  local owner, best, ids = nil, nil, nil
  if #h > 0 then
    ids = {}
    for i = 1, #h, 2 do
      if h[i] == '_o' then
        owner = h[i + 1]
      else
        local p = tonumber(h[i + 1])
        ids[#ids + 1] = h[i]
        if best == nil or p > best then best = p end
      end
    end
  end
  holds[r] = {owner, best, ids}
  return owner, best, ids
end

-- The best-ranked waiter of r: id, priority, queue member.
local function head(r)
  local cached = heads[r]
  if not cached then
    local m = redis.call('ZRANGE', K .. 'q:' .. r, 0, 0, 'WITHSCORES')
    if #m == 0 then cached = {} else cached = {string.sub(m[1], 18), -tonumber(m[2]), m[1]} end
    heads[r] = cached
  end
  return cached[1], cached[2], cached[3]
end

-- Takes lease id off every resource it holds; tells its client with message (unless nil). Returns the client.
local function drop(id, message)
  local lk = K .. 'l:' .. id
  local l = redis.call('HMGET', lk, 'c', 'r')
  if not l[1] then return nil end
  for _, r in ipairs(cjson.decode(l[2])) do
    local hk = K .. 'h:' .. r
    -- The owner field and this lease: the last one out deletes the hold.
    if redis.call('HLEN', hk) <= 2 then redis.call('DEL', hk) else redis.call('HDEL', hk, id) end
    holds[r] = nil
    markDirty(r)
  end
  redis.call('DEL', lk)
  redis.call('SREM', K .. 'cl:' .. l[1], id)
  if message then publish(l[1], message) end
  return l[1]
end

-- Takes waiter id out of every queue it is in; tells its client with message (unless nil).
local function unqueue(id, message)
  local wk = K .. 'w:' .. id
  local w = redis.call('HMGET', wk, 'c', 'r', 'm')
  if not w[1] then return nil end
  for _, r in ipairs(cjson.decode(w[2])) do
    redis.call('ZREM', K .. 'q:' .. r, w[3])
    redis.call('ZREM', K .. 'qx:' .. r, w[3])
    heads[r] = nil
    markDirty(r)
  end
  redis.call('DEL', wk)
  redis.call('SREM', K .. 'cl:' .. w[1], id)
  if message then publish(w[1], message) end
  return w[1]
end

-- Clients whose heartbeat deadline passed are dead: their leases are lost and their waiters leave.
local function reap()
  local dead = redis.call('ZRANGEBYSCORE', K .. 'clients', '-inf', now())
  for _, c in ipairs(dead) do
    for _, id in ipairs(redis.call('SMEMBERS', K .. 'cl:' .. c)) do
      if not drop(id, {'L', id, 'LOST', 'the lease was not renewed in time'}) then unqueue(id, nil) end
    end
    redis.call('DEL', K .. 'cl:' .. c)
    redis.call('ZREM', K .. 'clients', c)
  end
end

local function heartbeat(client, leaseMs)
  redis.call('ZADD', K .. 'clients', int(now() + tonumber(leaseMs)), client)
end

-- Can a request have all of res now? A waiter (wid) may not pass one ranked ahead of it on any resource; a
-- new request (wid nil) ranks after every waiter of the same or higher priority. Re-entrance skips the queue.
local function grantable(res, guid, prio, wid)
  for _, r in ipairs(res) do
    local owner, best = hold(r)
    if owner ~= guid then
      local hid, hprio = head(r)
      if hid and hid ~= wid then
        if wid or hprio >= prio then return false end
      end
      if owner and not (prio > best) then return false end
    end
  end
  return true
end

-- Every waiter that watches r go to someone else has used one more of its attempts.
local function countChances(r, winner)
  if not head(r) then return end
  for _, m in ipairs(redis.call('ZRANGE', K .. 'qx:' .. r, 0, -1)) do
    local id = string.sub(m, 18)
    local wk = K .. 'w:' .. id
    local w = redis.call('HMGET', wk, 'g', 'x')
    if not w[1] then
      redis.call('ZREM', K .. 'qx:' .. r, m)
    elseif w[1] ~= winner and w[2] ~= '' then
      local a = redis.call('HINCRBY', wk, 'a', 1)
      if a >= tonumber(w[2]) then
        unqueue(id, {'D', id, 'ALREADY_LOCKED', 'gave up after ' .. a .. ' attempts'})
      end
    end
  end
end

-- Grants res to request id, stealing from lower-priority holders (each victim is told, with whom to
-- acknowledge). Returns the tokens (strings, in the order of res) and the number of victims.
local function grant(id, resJson, res, guid, prio, client)
  local victims, seen = {}, {}
  for _, r in ipairs(res) do
    local owner, _, ids = hold(r)
    if owner and owner ~= guid then
      for _, v in ipairs(ids) do
        if not seen[v] then seen[v] = true; victims[#victims + 1] = v end
      end
    end
  end
  for _, v in ipairs(victims) do drop(v, {'P', v, guid, prio, client, id}) end
  local tokens = {}
  for i, r in ipairs(res) do
    local tk = K .. 't:' .. r
    local token = redis.call('INCR', tk)
    if token == 1 then
      -- A new or lost counter (the server lost its data) starts above every token issued before: tokens
      -- are handed out at most one per microsecond on average.
      now()
      token = NOW_US
      redis.call('SET', tk, int(token))
    end
    tokens[i] = int(token)
    redis.call('HSET', K .. 'h:' .. r, '_o', guid, id, prio)
    holds[r] = nil
    countChances(r, guid)
  end
  redis.call('HSET', K .. 'l:' .. id, 'c', client, 'g', guid, 'r', resJson, 'k', cjson.encode(tokens), 'v', #victims)
  redis.call('SADD', K .. 'cl:' .. client, id)
  return tokens, #victims
end

-- Hands freed resources to their waiters, best ranked first, and tells each winner on its channel.
local function pump()
  local i = 1
  while i <= #dirtyList do
    local r = dirtyList[i]
    i = i + 1
    dirty[r] = nil
    while true do
      local wid, _, member = head(r)
      if not wid then break end
      local wk = K .. 'w:' .. wid
      local w = redis.call('HMGET', wk, 'g', 'p', 'c', 'r')
      if not w[1] then
        redis.call('ZREM', K .. 'q:' .. r, member)
        redis.call('ZREM', K .. 'qx:' .. r, member)
      else
        local res = cjson.decode(w[4])
        if not grantable(res, w[1], tonumber(w[2]), wid) then break end
        unqueue(wid, nil)
        local tokens, victims = grant(wid, w[4], res, w[1], w[2], w[3])
        publish(w[3], {'G', wid, tokens, victims})
      end
    end
  end
end

-- ms until the earliest heartbeat deadline of another client (-1 if none): a waiter wakes then, so a dead
-- holder's locks pass on at its deadline without anyone polling.
local function nextExpiry(client)
  local m = redis.call('ZRANGE', K .. 'clients', 0, 1, 'WITHSCORES')
  for i = 1, #m, 2 do
    if m[i] ~= client then return int(math.max(0, tonumber(m[i + 1]) - now())) end
  end
  return '-1'
end

-- What the server knows about id: a lease (JSON [tokens, victims]), a waiter ('W') or nothing ('').
local function status(id)
  local l = redis.call('HMGET', K .. 'l:' .. id, 'k', 'v')
  if l[1] then return '[' .. l[1] .. ',' .. l[2] .. ']' end
  if redis.call('EXISTS', K .. 'w:' .. id) == 1 then return 'W' end
  return ''
end
`

/**
 * The uncontended acquire, before the library is even defined (its function definitions cost as much as a
 * few commands): nobody to reap, every resource free and unqueued. Grants exactly as the full
 * script would in that case; otherwise falls through to it.
 */
const FAST_ACQUIRE = `
do
  local k, id, client, guid, resJson = ARGV[1], ARGV[2], ARGV[3], ARGV[5], ARGV[8]
  local time = redis.call('TIME')
  local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  -- No idempotency check needed here: an id already granted or queued keeps its resources held or queued.
  local fast = #LEFTOVER == 0
    and #redis.call('ZRANGEBYSCORE', k .. 'clients', '-inf', nowMs, 'LIMIT', 0, 1) == 0
  local res = cjson.decode(resJson)
  if fast then
    for _, r in ipairs(res) do
      if redis.call('EXISTS', k .. 'h:' .. r, k .. 'q:' .. r) > 0 then fast = false; break end
    end
  end
  if fast then
    redis.call('ZADD', k .. 'clients', string.format('%d', nowMs + tonumber(ARGV[4])), client)
    local tokens = {}
    for i, r in ipairs(res) do
      local tk = k .. 't:' .. r
      local token = redis.call('INCR', tk)
      if token == 1 then
        token = tonumber(time[1]) * 1000000 + tonumber(time[2])
        redis.call('SET', tk, string.format('%d', token))
      end
      tokens[i] = string.format('%d', token)
      redis.call('HSET', k .. 'h:' .. r, '_o', guid, id, ARGV[6])
    end
    local encoded = cjson.encode(tokens)
    redis.call('HSET', k .. 'l:' .. id, 'c', client, 'g', guid, 'r', resJson, 'k', encoded, 'v', 0)
    redis.call('SADD', k .. 'cl:' .. client, id)
    return {'G', encoded, 0}
  end
end
`

/**
 * Gives back the leases named by ARGV[first..] that are alone on their resources with nobody waiting for
 * them, before the library is defined; the others (and waiters' ids) are left in LEFTOVER for the full
 * script. Releases ride along with the next acquire when there is one (one command instead of two).
 */
function fastReleases(first: number): string {
  return `
local LEFTOVER = {}
for i = ${first}, #ARGV do
  local k, id = ARGV[1], ARGV[i]
  local l = redis.call('HMGET', k .. 'l:' .. id, 'c', 'r')
  local keys, simple = {k .. 'l:' .. id}, l[1] ~= false
  if simple then
    for _, r in ipairs(cjson.decode(l[2])) do
      local hk = k .. 'h:' .. r
      if redis.call('HLEN', hk) > 2 or redis.call('EXISTS', k .. 'q:' .. r) > 0 then simple = false; break end
      keys[#keys + 1] = hk
    end
  end
  if simple then
    redis.call('DEL', unpack(keys))
    redis.call('SREM', k .. 'cl:' .. l[1], id)
  else
    LEFTOVER[#LEFTOVER + 1] = id
  end
end
`
}

/**
 * acquire: ARGV = K, id, client, leaseMs, guid, priority, -priority, resources JSON, mayWait ('1'|'0'),
 * maxAttempts ('' for unlimited), then ids to release first.
 * Replies ['G', tokens JSON, victims] | ['W', nextExpiry] | ['F'].
 * Idempotent per id: a command resent after a reconnect reports what the first one did.
 */
const ACQUIRE = `
local id, client, leaseMs, guid, prio, score, resJson, mayWait, maxAttempts =
  ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]
-- Releases sent along come first, and their resources go to those already waiting, as if sent before.
for _, gone in ipairs(LEFTOVER) do
  if not drop(gone, nil) then unqueue(gone, nil) end
end
pump()
reap()
heartbeat(client, leaseMs)
if redis.call('EXISTS', K .. 'l:' .. id, K .. 'w:' .. id) > 0 then
  pump()
  local l = redis.call('HMGET', K .. 'l:' .. id, 'k', 'v')
  if not l[1] then return {'W', nextExpiry(client)} end
  return {'G', l[1], tonumber(l[2])}
end
local res = cjson.decode(resJson)
local reply
if grantable(res, guid, tonumber(prio), nil) then
  local tokens, victims = grant(id, resJson, res, guid, prio, client)
  reply = {'G', cjson.encode(tokens), victims}
elseif mayWait == '0' then
  reply = {'F'}
else
  local member = string.format('%016d', redis.call('INCR', K .. 'seq')) .. ':' .. id
  for _, r in ipairs(res) do
    redis.call('ZADD', K .. 'q:' .. r, score, member)
    if maxAttempts ~= '' then redis.call('ZADD', K .. 'qx:' .. r, score, member) end
    heads[r] = nil
  end
  redis.call('HSET', K .. 'w:' .. id, 'g', guid, 'p', prio, 'c', client, 'r', resJson, 'm', member, 'a', 1,
    'x', maxAttempts)
  redis.call('SADD', K .. 'cl:' .. client, id)
  reply = {'W', nextExpiry(client)}
end
pump()
return reply
`

/**
 * release: ARGV = K, ids... Gives back leases and withdraws waiters (either, whichever id is). It does not
 * reap: it is the hot path, and the scripts that wait on dead clients (acquire, renew) do.
 */
const RELEASE = `
for _, id in ipairs(LEFTOVER) do
  if not drop(id, nil) then unqueue(id, nil) end
end
pump()
return 1
`

/**
 * renew: ARGV = K, client, leaseMs, ids... Extends the client's heartbeat (which keeps all its leases and
 * waiters) and reports each id's status (see `status`), then the next expiry of another client.
 */
const RENEW = `
local client, leaseMs = ARGV[2], ARGV[3]
reap()
heartbeat(client, leaseMs)
local out = {}
for i = 4, #ARGV do out[#out + 1] = status(ARGV[i]) end
pump()
out[#out + 1] = nextExpiry(client)
return out
`

/** revoke: ARGV = K, resource. Takes every lease on the resource away (LOST). Replies [client, id, ...]. */
const REVOKE = `
local _, _, ids = hold(ARGV[2])
local out = {}
for _, id in ipairs(ids or {}) do
  local client = drop(id, {'L', id, 'LOST', 'the lock on ' .. ARGV[2] .. ' was revoked'})
  if client then out[#out + 1] = client; out[#out + 1] = id end
end
pump()
return out
`

/** The scripts, for ioredis `defineCommand` (one key: the clients zset, which names the hashtag's slot). */
export const SCRIPTS = {
  genlockAcquire: fastReleases(11) + FAST_ACQUIRE + LIBRARY + ACQUIRE,
  genlockRelease: fastReleases(2) + LIBRARY + RELEASE,
  genlockRenew: LIBRARY + RENEW,
  genlockRevoke: LIBRARY + REVOKE,
} as const

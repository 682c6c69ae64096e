-- join.lua: a fan joins the room, or rejoins with its queue token and keeps its place.
--
-- KEYS[1..7] the room (see lib.lua), KEYS[8] the proof-of-work key of this join's challenge
--            (any key of the room's slot when there is none), KEYS[9] the room's identities
--            (hash: verified identity -> the visitor holding its one place)
-- ARGV[1] now (unix ms) or '' for Redis's TIME
-- ARGV[2] a fresh visitor id, used when a new place is made
-- ARGV[3] the visitor id of a verified queue token, or ''
-- ARGV[4] that token's ticket number (0 for none or a pre-queue token)
-- ARGV[5] that token's epoch (the room state it was issued in), or ''
-- ARGV[6] the place in [0, 1) of a new fan in a random pre-queue: its draw score (see
--         admission/draw.py), or '' when the caller does not know the room's draw seed
-- ARGV[7] the proof-of-work challenge id, or '' when none was presented
-- ARGV[8] the difficulty in bits that the presented proof of work meets (0 for none)
-- ARGV[9] how long a spent challenge is remembered (ms)
-- ARGV[10] the caller's verified identity (admission/identity.py), or '' for none: one
--          identity, one place. A second place of the same identity (another device) is
--          merged into the better of the two (admitted beats waiting, then the earlier place),
--          and the state's merged counter counts it.
-- KEYS[10] the client's join bucket (queue/keys.py join_limit_key, on the room's slot), and
-- ARGV[11] its refill rate in tokens per second, ARGV[12] its burst: the per-client join limit
--          (admission/ratelimit.py's token bucket, here so that a join is one round trip).
--          ARGV[11] '' takes nothing (every later call of the same join: after NOCONFIG,
--          NEEDSEED or RETRY).
--
-- Returns the visitor reply of lib.lua: WAITING / PREQUEUE / ADMITTED for the (new or kept)
-- place; CLOSED, NOTOPEN (at_ms = opensAt), NOCONFIG (settings missing: sync and retry),
-- RATE_LIMITED ({'RATE_LIMITED', retry_after_ms}: the bucket is empty, nothing changed),
-- POW_REQUIRED (position = bits needed), POW_REUSED, NEEDSEED (a new pre-queue place needs
-- the draw score ARGV[6] did not carry: call again with it), IDENTITY_REQUIRED (the room lets
-- only verified identities in), or RETRY (visitor id taken; never in practice with 72 random
-- bits). The reply may name another visitor than the token's: the identity's kept place.

local now = now_ms()
-- The join limit before anything else, as the separate limiter call it replaces came before
-- the join (so a show without a room, answered NOCONFIG, is limited too): token_bucket.lua's
-- bucket (refilling at rate/s up to burst, one token a join), on the room's clock.
if ARGV[11] ~= '' then
  local rate, burst = tonumber(ARGV[11]), tonumber(ARGV[12])
  local bucket = redis.call('HMGET', KEYS[10], 'tokens', 'ts')
  local tokens, ts = tonumber(bucket[1]), tonumber(bucket[2])
  if tokens == nil or ts == nil then
    tokens, ts = burst, now
  end
  tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
  if tokens < 1 then
    return {'RATE_LIMITED', math.ceil((1 - tokens) * 1000 / rate)}
  end
  redis.call('HSET', KEYS[10], 'tokens', tokens - 1, 'ts', now)
  redis.call('PEXPIRE', KEYS[10], math.ceil(burst * 1000 / rate) + 1000)
end

local cfg = load_config()
if not cfg then
  return {'NOCONFIG'}
end
local facts = read_facts()  -- (what the answer reads of the state: lib.lua says why once)
local ph = phase(cfg, now, facts)
if ph == 'CLOSED' then
  return reply('CLOSED', '', 0, 0, 0, 0, ph, nil, facts)
end
if ph == 'NOTOPEN' then
  return reply('NOTOPEN', '', 0, 0, 0, cfg.opens, ph, nil, facts)
end
number_prequeue(cfg, now)

local K_IDENTITIES, identity = KEYS[9], ARGV[10]
if identity == '' and cfg.idreq then
  return reply('IDENTITY_REQUIRED', '', 0, 0, 0, 0, ph, nil, facts)
end

-- The place the caller's queue token names, if it still has one.
local token_vid, token_place = ARGV[3], nil
if token_vid ~= '' then
  local rec = redis.call('HGET', K_VISITORS, token_vid)
  if rec then
    token_place = view(cfg, now, token_vid, rec, false, ph, facts)
    if not token_place then
      redis.call('HDEL', K_VISITORS, token_vid)
    end
  else
    local ticket = tonumber(ARGV[4]) or 0
    local epoch = facts.st[2] or ''
    if ticket >= 1 and ARGV[5] ~= epoch and restore(token_vid, ticket, now) then
      token_place = view(cfg, now, token_vid, redis.call('HGET', K_VISITORS, token_vid),
        false, ph, facts)
    end
  end
end

-- One identity, one place: the place it already holds, merged with the token's if both live.
if identity ~= '' then
  local held_vid = redis.call('HGET', K_IDENTITIES, identity)
  local held = nil
  if held_vid and held_vid ~= token_vid then
    local rec = redis.call('HGET', K_VISITORS, held_vid)
    if rec then held = view(cfg, now, held_vid, rec, false, ph, facts) end
  end
  if held and token_place then
    local keep, drop = held, token_place
    -- reply fields: [1] status, [2] visitor, [4] position (1 = next; 0 once admitted)
    local function rank(place)
      if place[1] == 'ADMITTED' then return 0 end
      return place[4]
    end
    if rank(token_place) < rank(held) then keep, drop = token_place, held end
    if drop[1] == 'ADMITTED' then
      return keep  -- both already admitted (identity given only later): nothing to merge
    end
    redis.call('ZREM', K_WAITING, drop[2])
    redis.call('HDEL', K_VISITORS, drop[2])
    redis.call('HINCRBY', K_STATE, 'merged', 1)
    redis.call('HSET', K_IDENTITIES, identity, keep[2])
    local rec = redis.call('HGET', K_VISITORS, keep[2])
    return view(cfg, now, keep[2], rec, false, ph, facts) or keep  -- positions after the other left
  end
  if held then
    return held
  end
  if token_place then
    redis.call('HSET', K_IDENTITIES, identity, token_vid)
    return token_place
  end
elseif token_place then
  return token_place
end

-- A new place.
local drawn = ph == 'PREQUEUE' and cfg.mode == 'RANDOM_PREQUEUE'
if drawn and ARGV[6] == '' then
  return {'NEEDSEED'}
end
if cfg.pow > 0 then
  if ARGV[7] == '' or (tonumber(ARGV[8]) or 0) < cfg.pow then
    return reply('POW_REQUIRED', '', 0, cfg.pow, 0, 0, ph, nil, facts)
  end
  if not redis.call('SET', KEYS[8], '1', 'NX', 'PX', tonumber(ARGV[9])) then
    return reply('POW_REUSED', '', 0, cfg.pow, 0, 0, ph, nil, facts)
  end
end

local vid = ARGV[2]
if redis.call('HEXISTS', K_VISITORS, vid) == 1 then
  return {'RETRY'}
end
local ticket, score
if drawn then
  ticket = 0
  score = tonumber(ARGV[6])
else
  ticket = redis.call('HINCRBY', K_STATE, 'seq', 1)
  score = ticket
end
redis.call('ZADD', K_WAITING, score, vid)
if identity ~= '' then
  redis.call('HSET', K_IDENTITIES, identity, vid)
end
redis.call('HINCRBY', K_STATE, 'joined', 1)
-- The record remembers when the fan joined; view keeps the wait this answer predicts as the
-- one predicted at join (none before a random pre-queue is numbered), for the admission log.
return view(cfg, now, vid, pack(ticket, 0, secs(now) .. ','), true, ph, facts)

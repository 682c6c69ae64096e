-- join.lua: a fan joins the room, or rejoins with its queue token and keeps its place.
--
-- KEYS[1..7] the room (see lib.lua), KEYS[8] the proof-of-work key of this join's challenge
--            (any key of the room's slot when there is none)
-- ARGV[1] now (unix ms) or '' for Redis's TIME
-- ARGV[2] a fresh visitor id, used when a new place is made
-- ARGV[3] the visitor id of a verified queue token, or ''
-- ARGV[4] that token's ticket number (0 for none or a pre-queue token)
-- ARGV[5] that token's epoch (the room state it was issued in), or ''
-- ARGV[6] a uniformly random score in [0, 1): the place of a new fan in a random pre-queue
-- ARGV[7] the proof-of-work challenge id, or '' when none was presented
-- ARGV[8] the difficulty in bits that the presented proof of work meets (0 for none)
-- ARGV[9] how long a spent challenge is remembered (ms)
--
-- Returns the visitor reply of lib.lua: WAITING / PREQUEUE / ADMITTED for the (new or kept)
-- place; CLOSED, NOTOPEN (at_ms = opensAt), NOCONFIG (settings missing: sync and retry),
-- POW_REQUIRED (position = bits needed), POW_REUSED, or RETRY (visitor id taken; never in
-- practice with 72 random bits).

local now = now_ms()
local cfg = load_config()
if not cfg then
  return {'NOCONFIG'}
end
local ph = phase(cfg, now)
if ph == 'CLOSED' then
  return reply('CLOSED', '', 0, 0, 0, 0, ph)
end
if ph == 'NOTOPEN' then
  return reply('NOTOPEN', '', 0, 0, 0, cfg.opens, ph)
end
number_prequeue(cfg, now)

local token_vid = ARGV[3]
if token_vid ~= '' then
  local rec = redis.call('HGET', K_VISITORS, token_vid)
  if rec then
    local kept = view(cfg, now, token_vid, rec)
    if kept then
      return kept
    end
    redis.call('HDEL', K_VISITORS, token_vid)
  else
    local ticket = tonumber(ARGV[4]) or 0
    local epoch = redis.call('HGET', K_STATE, 'epoch') or ''
    if ticket >= 1 and ARGV[5] ~= epoch and restore(token_vid, ticket, now) then
      return view(cfg, now, token_vid, redis.call('HGET', K_VISITORS, token_vid))
    end
  end
end

-- A new place.
if cfg.pow > 0 then
  if ARGV[7] == '' or (tonumber(ARGV[8]) or 0) < cfg.pow then
    return reply('POW_REQUIRED', '', 0, cfg.pow, 0, 0, ph)
  end
  if not redis.call('SET', KEYS[8], '1', 'NX', 'PX', tonumber(ARGV[9])) then
    return reply('POW_REUSED', '', 0, cfg.pow, 0, 0, ph)
  end
end

local vid = ARGV[2]
if redis.call('HEXISTS', K_VISITORS, vid) == 1 then
  return {'RETRY'}
end
local ticket, score
if ph == 'PREQUEUE' and cfg.mode == 'RANDOM_PREQUEUE' then
  ticket = 0
  score = tonumber(ARGV[6])
else
  ticket = redis.call('HINCRBY', K_STATE, 'seq', 1)
  score = ticket
end
redis.call('ZADD', K_WAITING, score, vid)
redis.call('HINCRBY', K_STATE, 'joined', 1)
-- The record remembers when the fan joined and the wait its answer predicts (none before a
-- random pre-queue is numbered), for the admission log.
local eta = ''
if ticket > 0 then
  eta = predicted_wait(cfg, now, ph, redis.call('ZRANK', K_WAITING, vid) + 1)
end
-- view stores the record with lastSeen = now
return view(cfg, now, vid, pack(ticket, 0, math.floor(now / 1000) .. ',' .. eta))

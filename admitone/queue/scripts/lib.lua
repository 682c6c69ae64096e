-- lib.lua: helpers shared by the room scripts. store.py puts this text in front of a script's
-- own text before registering it (Redis 6.2 has no script libraries), so it has no KEYS/ARGV of
-- its own; it only names them. Only Redis 6.2 commands are used anywhere (ZPOPMIN, HSET with
-- several fields, ZADD, …); writes after TIME are fine because scripts replicate their effects.
--
-- Every room script takes the same first seven KEYS (queue/keys.py RoomKeys):
--   KEYS[1] config      hash, the room's settings mirrored from PostgreSQL
--   KEYS[2] state       hash, epoch / seq / thru / admitted / abandoned / bucket / bucket_at /
--                       fence / obs / joined (new places) / left (left or revoked while
--                       waiting) / peak (most active sessions after a tick)
--   KEYS[3] waiting     zset, visitor -> ticket number (a random score in [0, 1) in pre-queue)
--   KEYS[4] visitors    hash, visitor -> "<ticket>,<lastSeenSeconds>[,<joinedSeconds>,<eta>]"
--                       (eta: the wait in seconds the join answer predicted, '' for none;
--                       admit.lua copies the tail into the admission log, for loadtests/check.py)
--   KEYS[5] active      zset, visitor -> end of session (unix ms)
--   KEYS[6] admissions  hash, unix second -> admissions of the tick in that second
--   KEYS[7] revoked     zset, revoked visitor -> until when (unix ms)
-- and ARGV[1] = now in unix ms, or '' for Redis's own clock (tests drive a clock of their own).

local K_CONFIG, K_STATE, K_WAITING = KEYS[1], KEYS[2], KEYS[3]
local K_VISITORS, K_ACTIVE, K_ADMISSIONS, K_REVOKED = KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local CHUNK = 500

local function now_ms()
  if ARGV[1] ~= nil and ARGV[1] ~= '' then
    return tonumber(ARGV[1])
  end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function load_config()
  local v = redis.call('HMGET', K_CONFIG, 'enabled', 'rate', 'max', 'session', 'mode', 'opens',
    'starts', 'paused', 'grace', 'pow', 'ver', 'idreq')
  if v[1] == false then
    return nil
  end
  return {
    enabled = v[1] == '1', rate = tonumber(v[2]), max = tonumber(v[3]),
    session = tonumber(v[4]), mode = v[5], opens = tonumber(v[6]) or 0,
    starts = tonumber(v[7]) or 0, paused = v[8] == '1', grace = tonumber(v[9]),
    pow = tonumber(v[10]) or 0, ver = v[11] or '', idreq = v[12] == '1',
  }
end

-- tail: "<joinedSeconds>,<eta>" of the fan's first join, or '' when unknown (a restored place)
local function pack(ticket, seen_s, tail)
  if tail ~= nil and tail ~= '' then
    return ticket .. ',' .. seen_s .. ',' .. tail
  end
  return ticket .. ',' .. seen_s
end

-- "<ticket>,<seen>[,<tail>]" -> ticket, seen, tail (0, 0, '' for a missing record)
local function unpack_record(rec)
  if not rec then
    return 0, 0, ''
  end
  local comma = string.find(rec, ',', 1, true)
  local second = string.find(rec, ',', comma + 1, true)
  if not second then
    return tonumber(string.sub(rec, 1, comma - 1)), tonumber(string.sub(rec, comma + 1)), ''
  end
  return tonumber(string.sub(rec, 1, comma - 1)), tonumber(string.sub(rec, comma + 1, second - 1)),
    string.sub(rec, second + 1)
end

-- The wait the join answer predicts, as admission/rate.py's estimated_wait_seconds (plus the
-- time until startsAt in a pre-queue, as waiting_room.py's _eta): kept in the fan's record so
-- that the load-test checker can hold it against the actual wait.
local MAX_WAIT_SECONDS = 7 * 86400
local function predicted_wait(cfg, now, ph, position)
  if position <= 0 then return 0 end
  local per_minute = tonumber(redis.call('HGET', K_STATE, 'obs')) or 0
  if per_minute <= 0 then per_minute = cfg.rate end
  if per_minute <= 0 then return 0 end
  local wait = math.ceil(math.min(position * 60 / per_minute, MAX_WAIT_SECONDS))
  if ph == 'PREQUEUE' and cfg.starts > now then
    wait = wait + math.ceil((cfg.starts - now) / 1000)
  end
  return wait
end

-- CLOSED (room off) | NOTOPEN (before opensAt) | PREQUEUE (before startsAt) | SOLDOUT (no
-- seat free nor held: the scheduler sets the state's soldout from the booking core's counts,
-- and clears it when seats come back) | PAUSED | OPEN
local function phase(cfg, now)
  if not cfg.enabled then return 'CLOSED' end
  if cfg.opens > 0 and now < cfg.opens then return 'NOTOPEN' end
  if cfg.starts > 0 and now < cfg.starts then return 'PREQUEUE' end
  if redis.call('HGET', K_STATE, 'soldout') == '1' then return 'SOLDOUT' end
  if cfg.paused then return 'PAUSED' end
  return 'OPEN'
end

-- Once startsAt has passed, give the pre-queue (scores in [0, 1), so already in the drawn
-- order) ticket numbers seq+1 … seq+n in that order, ahead of everyone who joins later, and
-- record the draw in the state hash for publication (admission/draw.py): draw_at (unix ms),
-- draw_first (the first ticket) and draw_entries, the fans' public entry ids in drawn order,
-- 16 hex characters each, one after another (entry id = first 16 of sha1hex("entry:" ..
-- visitor), as draw.entry_id computes it). Runs in whichever script first sees the time pass;
-- afterwards it costs one O(log n) look.
local function number_prequeue(cfg, now)
  if cfg.starts > 0 and now < cfg.starts then return end
  if #redis.call('ZRANGEBYSCORE', K_WAITING, '-inf', '(1', 'LIMIT', 0, 1) == 0 then return end
  local members = redis.call('ZRANGEBYSCORE', K_WAITING, '-inf', '(1')
  local seq = tonumber(redis.call('HGET', K_STATE, 'seq')) or 0
  local n = #members
  local entries = {}
  for first = 1, n, CHUNK do
    local last = math.min(first + CHUNK - 1, n)
    local names = {}
    for i = first, last do
      names[#names + 1] = members[i]
      entries[i] = string.sub(redis.sha1hex('entry:' .. members[i]), 1, 16)
    end
    local recs = redis.call('HMGET', K_VISITORS, unpack(names))
    local zargs, hargs = {}, {}
    for j = 1, #names do
      local ticket = seq + first + j - 1
      local _, seen, tail = unpack_record(recs[j])
      zargs[#zargs + 1] = ticket
      zargs[#zargs + 1] = names[j]
      hargs[#hargs + 1] = names[j]
      hargs[#hargs + 1] = pack(ticket, seen, tail)
    end
    redis.call('ZADD', K_WAITING, unpack(zargs))
    redis.call('HSET', K_VISITORS, unpack(hargs))
  end
  redis.call('HSET', K_STATE, 'seq', seq + n, 'draw_at', now, 'draw_first', seq + 1,
    'draw_entries', table.concat(entries))
end

-- Put back a visitor whose place was lost with Redis's state (its token names an older epoch),
-- at its old ticket number; the counter moves past it so no later fan shares the number.
-- A revoked visitor is not put back (false).
local function restore(vid, ticket, now)
  if redis.call('ZSCORE', K_REVOKED, vid) then
    return false
  end
  redis.call('ZADD', K_WAITING, ticket, vid)
  redis.call('HSET', K_VISITORS, vid, pack(ticket, math.floor(now / 1000)))
  local seq = tonumber(redis.call('HGET', K_STATE, 'seq')) or 0
  if ticket > seq then
    redis.call('HSET', K_STATE, 'seq', ticket)
  end
  return true
end

-- The reply every visitor-facing script gives:
--   {status, visitor, ticket, position, total, observedPerMinute, at_ms, epoch, phase,
--    releaseRatePerMinute, seatsLeft (-1 while unknown), seatsPerOrder, buyingShare, active}
-- status WAITING | PREQUEUE | SOLDOUT (waiting, but nothing is left) | ADMITTED (at_ms = end
-- of session) | GONE | CLOSED | NOTOPEN (at_ms = opensAt) | NOCONFIG |
-- POW_REQUIRED (position = bits) | POW_REUSED
local function reply(status, vid, ticket, position, total, at_ms, ph)
  local st = redis.call('HMGET', K_STATE, 'obs', 'epoch', 'inv_left', 'inv_spo', 'inv_conv')
  return {status, vid or '', ticket or 0, position or 0, total or 0, st[1] or '0', at_ms or 0,
    st[2] or '', ph or '', tonumber(redis.call('HGET', K_CONFIG, 'rate')) or 0,
    tonumber(st[3]) or -1, st[4] or '0', st[5] or '1', redis.call('ZCARD', K_ACTIVE)}
end

-- Where a visitor with a record stands now; refreshes lastSeen of a waiting visitor.
-- nil when the record points nowhere (the caller treats that as GONE).
local function view(cfg, now, vid, rec)
  local ticket, _, tail = unpack_record(rec)
  local ph = phase(cfg, now)
  local ends = redis.call('ZSCORE', K_ACTIVE, vid)
  if ends then
    return reply('ADMITTED', vid, ticket, 0, 0, tonumber(ends), ph)
  end
  local rank = redis.call('ZRANK', K_WAITING, vid)
  if not rank then
    return nil
  end
  redis.call('HSET', K_VISITORS, vid, pack(ticket, math.floor(now / 1000), tail))
  local status = 'WAITING'
  if ph == 'PREQUEUE' then status = 'PREQUEUE' end
  if ph == 'SOLDOUT' then status = 'SOLDOUT' end
  return reply(status, vid, ticket, rank + 1, redis.call('ZCARD', K_WAITING), 0, ph)
end


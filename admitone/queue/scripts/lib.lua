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
--   KEYS[4] visitors    hash, visitor ->
--                       "<ticket>,<lastSeen>[,<joined>,<eta>,<lastEta>,<early>,<late>]"
--                       (unix seconds with 2 decimals; eta: the wait in seconds the join answer
--                       predicted, lastEta the one the last answer (at lastSeen) predicted, ''
--                       for none; early and late: the earliest and the latest moment of
--                       admission any answer so far predicted, in seconds after joined (absent
--                       until a second answer: the join's eta is both) — every answer's
--                       prediction, folded into the two that bound its error; admit.lua
--                       copies them into the admission log and the error histograms, for the
--                       room's stats and loadtests/check.py)
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

-- The release rate load_config read, for reply: no script writes the config hash after
-- reading it, so reply need not read it again (every script that replies loads it first).
local LOADED_RATE = nil

local function load_config()
  local v = redis.call('HMGET', K_CONFIG, 'enabled', 'rate', 'max', 'session', 'mode', 'opens',
    'starts', 'paused', 'grace', 'pow', 'ver', 'idreq')
  if v[1] == false then
    return nil
  end
  LOADED_RATE = tonumber(v[2]) or 0
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

-- The wait a waiting fan is told, in ms (nil when no tokens come in): admission/eta.py's
-- predicted_wait_ms, the same sums in the same order (tests hold the two to each other). It
-- follows the ticks: the next tick (the first at or after startsAt in a pre-queue) admits the
-- whole tokens its bucket will hold, each later tick one tick's worth more; the fans ahead who
-- left (the abandonment share the ticks saw lately) take no token; with maxActive reached the
-- fan also waits for as many sessions to end as it needs slots.
-- ``facts``: the caller's read_facts (fields 6-10 are the state's of this sum).
local MAX_WAIT_MS = 7 * 86400 * 1000
local function predicted_wait(cfg, now, ph, position, facts)
  if position <= 0 then return 0 end
  local st = facts.st
  local tick = tonumber(st[8]) or 1000
  if cfg.rate <= 0 or tick <= 0 then return nil end
  local per_tick = cfg.rate * tick / 60000
  local capacity = 2 * per_tick
  if per_tick < 1 then capacity = math.max(1 + per_tick, 2 * per_tick) end
  -- before the room's first tick: that tick (taken as half a tick away) only starts the
  -- bucket, and the one after it lets the first fans in
  local last = tonumber(st[7]) or (now + math.floor(tick / 2))
  local first, tokens
  if ph == 'PREQUEUE' and cfg.starts > now then
    first = last + tick * math.max(1, math.ceil((cfg.starts - last) / tick))
    tokens = math.min(capacity, per_tick)
  else
    first = math.max(now, last + tick)
    tokens = math.min(capacity, (tonumber(st[6]) or 0) + (first - last) * cfg.rate / 60000)
  end
  local seen_in, seen_out = tonumber(st[9]) or 0, tonumber(st[10]) or 0
  local share = 0
  if seen_in + seen_out > 0 then share = math.min(1, math.max(0, seen_out / (seen_in + seen_out))) end
  local place = 1 + (position - 1) * (1 - share)
  local later = 0
  if tokens < place then later = math.ceil((place - tokens) / per_tick - 1e-9) end
  local at = first + later * tick
  local active = facts.active
  local free = cfg.max - active
  if place > free then
    local needed = place - math.max(0, free)
    local slot_at
    if needed <= active then
      local ends = redis.call('ZRANGE', K_ACTIVE, math.ceil(needed) - 1, math.ceil(needed) - 1,
        'WITHSCORES')
      slot_at = tonumber(ends[2])
    else
      local latest = redis.call('ZRANGE', K_ACTIVE, -1, -1, 'WITHSCORES')
      local ending = tonumber(latest[2]) or now
      slot_at = ending + math.ceil((needed - active) / math.max(1, cfg.max)) * cfg.session * 1000
    end
    if slot_at > at then at = first + tick * math.ceil((slot_at - first) / tick - 1e-9) end
  end
  return math.min(MAX_WAIT_MS, math.max(0, at - now))
end

-- seconds (unix, or a wait) as the records keep them: 2 decimals for times, 1 for waits
local function secs(ms) return string.format('%.2f', ms / 1000) end
local function wait_text(ms)
  if ms == nil then return '' end
  return string.format('%.1f', ms / 1000)
end

-- CLOSED (room off) | NOTOPEN (before opensAt) | PREQUEUE (before startsAt) | SOLDOUT (no
-- seat free nor held: the scheduler sets the state's soldout from the booking core's counts,
-- and clears it when seats come back) | PAUSED | OPEN
-- ``facts`` (optional): read_facts's reading, which holds the state's soldout.
local function phase(cfg, now, facts)
  if not cfg.enabled then return 'CLOSED' end
  if cfg.opens > 0 and now < cfg.opens then return 'NOTOPEN' end
  if cfg.starts > 0 and now < cfg.starts then return 'PREQUEUE' end
  local soldout
  if facts then
    soldout = facts.st[11]
  else
    soldout = redis.call('HGET', K_STATE, 'soldout')
  end
  if soldout == '1' then return 'SOLDOUT' end
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
  redis.call('HSET', K_VISITORS, vid, pack(ticket, secs(now)))
  local seq = tonumber(redis.call('HGET', K_STATE, 'seq')) or 0
  if ticket > seq then
    redis.call('HSET', K_STATE, 'seq', ticket)
  end
  return true
end

-- The reply every visitor-facing script gives:
--   {status, visitor, ticket, position, total, observedPerMinute, at_ms, epoch, phase,
--    releaseRatePerMinute, seatsLeft (-1 while unknown), seatsPerOrder, buyingShare, active,
--    predicted wait (seconds, 1 decimal; '' for none)}
-- status WAITING | PREQUEUE | SOLDOUT (waiting, but nothing is left) | ADMITTED (at_ms = end
-- of session) | GONE | CLOSED | NOTOPEN (at_ms = opensAt) | NOCONFIG |
-- POW_REQUIRED (position = bits) | POW_REUSED
-- ``facts``: the caller's read_facts (fields 1-5 are the state's of the reply); the release
-- rate is the one load_config read.
local function reply(status, vid, ticket, position, total, at_ms, ph, eta, facts)
  local st = facts.st
  return {status, vid or '', ticket or 0, position or 0, total or 0, st[1] or '0', at_ms or 0,
    st[2] or '', ph or '', LOADED_RATE, tonumber(st[3]) or -1, st[4] or '0', st[5] or '1',
    facts.active, eta or ''}
end

-- What a fan's answer reads, in one HMGET and one ZCARD instead of three calls and two: the
-- state's fields of reply (1-5), of predicted_wait (6-10) and of phase (11), and the active
-- sessions. Read after the last write of the state or the active set that the answer must
-- show: status and join read it once, before anything else they read of the state (what they
-- write before answering, seq, joined, merged and the draw's fields, is none of these).
local function read_facts()
  return {
    st = redis.call('HMGET', K_STATE, 'obs', 'epoch', 'inv_left', 'inv_spo', 'inv_conv',
      'bucket', 'bucket_at', 'tick', 'ew_in', 'ew_out', 'soldout'),
    active = redis.call('ZCARD', K_ACTIVE),
  }
end

-- Where a visitor with a record stands now; refreshes lastSeen of a waiting visitor and keeps
-- the wait this answer predicts (and, for a new place, as the one predicted at join).
-- nil when the record points nowhere (the caller treats that as GONE). ``ph``: the phase the
-- caller found at this ``now`` (the scripts that call view never change it); ``facts``: the
-- caller's read_facts.
-- A fresh place (join made it in this call, under a new visitor id) has no session, and a
-- numbered one is last in the queue: its ticket is the counter's newest, and every score in
-- the queue is at most the counter (numbered places are the counter's values, a restored
-- place moves the counter past it, a pre-queue place's draw score is below 1).
local function view(cfg, now, vid, rec, fresh, ph, facts)
  local ticket, _, tail = unpack_record(rec)
  local rank, total
  if fresh and ticket > 0 then
    total = redis.call('ZCARD', K_WAITING)
    rank = total - 1
  else
    if not fresh then
      local ends = redis.call('ZSCORE', K_ACTIVE, vid)
      if ends then
        return reply('ADMITTED', vid, ticket, 0, 0, tonumber(ends), ph, nil, facts)
      end
    end
    rank = redis.call('ZRANK', K_WAITING, vid)
    if not rank then
      return nil
    end
  end
  local status = 'WAITING'
  if ph == 'PREQUEUE' then status = 'PREQUEUE' end
  if ph == 'SOLDOUT' then status = 'SOLDOUT' end
  local eta = ''
  if ticket > 0 and (ph == 'OPEN' or ph == 'PREQUEUE') then
    eta = wait_text(predicted_wait(cfg, now, ph, rank + 1, facts))
  end
  if tail ~= '' then
    local c1 = string.find(tail, ',', 1, true) or (#tail + 1)
    local c2 = string.find(tail, ',', c1 + 1, true) or (#tail + 1)
    local c3 = string.find(tail, ',', c2 + 1, true) or (#tail + 1)
    local c4 = string.find(tail, ',', c3 + 1, true) or (#tail + 1)
    local joined = string.sub(tail, 1, c1 - 1)
    local at_join = string.sub(tail, c1 + 1, c2 - 1)
    local early, late = string.sub(tail, c3 + 1, c4 - 1), string.sub(tail, c4 + 1)
    if fresh then at_join, early, late = eta, '', '' end
    local joined_s = tonumber(joined)
    if not fresh and eta ~= '' and joined_s then
      -- This answer's moment of admission, after joined; the bounds keep the extremes (both
      -- empty while only the join answer was given: then they are its eta, and a fan who
      -- never asks again costs no bytes for them).
      local due = now / 1000 - joined_s + tonumber(eta)
      local lo = tonumber(early) or tonumber(at_join) or due
      local hi = tonumber(late) or tonumber(at_join) or due
      early = string.format('%.1f', math.min(lo, due))
      late = string.format('%.1f', math.max(hi, due))
    end
    if early ~= '' then
      tail = joined .. ',' .. at_join .. ',' .. eta .. ',' .. early .. ',' .. late
    else
      tail = joined .. ',' .. at_join .. ',' .. eta
    end
  end
  redis.call('HSET', K_VISITORS, vid, pack(ticket, secs(now), tail))
  return reply(status, vid, ticket, rank + 1, total or redis.call('ZCARD', K_WAITING), 0, ph, eta,
    facts)
end

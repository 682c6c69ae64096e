-- admit.lua: one admission tick of one room (README, "The parts": the path of one fan).
--   1. refuse a stale scheduler: its fencing number is lower than one already seen;
--   2. drop active sessions that ended (their slots free up);
--   3. number the pre-queue once startsAt has passed;
--   4. refill the token bucket at releaseRatePerMinute, holding at most two ticks' worth (a
--      late tick still admits what its lateness earned);
--   5. admit min(bucket, maxActive - active) of the first waiting fans, skipping (and counting)
--      those whose lastSeen is older than the grace; each admitted fan gets sessionSeconds;
--   6. record the tick for the observed admission rate of the last minute;
--   7. append the tick to the admission log (KEYS[8]), when fans waited or were let in.
-- While the room is paused, before startsAt or closed, the bucket stays empty (a room that
-- opens or resumes releases smoothly, never in a burst).
--
-- KEYS[1..7] the room (see lib.lua)
-- KEYS[8] the admission log: a stream capped at ARGV[5] entries, one per tick that had fans
--         waiting or let any in: t (now, ms), p (phase), r (rate), m (maxActive), b (what
--         bounded the tick: R the rate, C free slots, E the waiting fans ran out, - not open),
--         a (admitted), s (skipped as abandoned), n (active after), w (waiting after), then one
--         field per admitted fan: visitor ->
--         "<ticket>,<joined>,<eta>,<lastSeen>,<lastEta>,<early>,<late>" (unix seconds; the
--         waits predicted at join and by the last answer, at lastSeen; the earliest and latest
--         admission any answer predicted, in seconds after joined; empty when unknown).
--         loadtests/check.py reads it; nothing in the product does.
-- KEYS[9] the ETA error histograms (hash), as counts per bucket of the relative error
--         (admission/eta.py ERROR_BUCKETS) per admitted fan: how far the wait predicted at join
--         was off, "a:<bucket>" since the room began and "<slot>:<bucket>" of the minute
--         "m<slot>" holds (slot = minute mod 10: the last ten minutes); and how far the worst
--         of all the answers the fan got was off (the farther of early and late from the
--         actual admission, over the actual wait since joining), "wa:<bucket>" and
--         "w<slot>:<bucket>". The room's stats read it.
-- ARGV[1] now (unix ms) or '' for Redis's TIME
-- ARGV[2] the scheduler's fencing number
-- ARGV[3] the tick interval (ms): the bucket holds at most twice that long's worth of admissions
-- ARGV[4] at most this many waiting fans are looked at in one tick (bounds the script's time)
-- ARGV[5] the admission log's length (approximate: XADD MAXLEN ~)
--
-- Returns {'OK', admitted, abandoned, active, waiting, phase, config version, tickets handed
-- out so far, visitor ids…} (the ids of the fans admitted), {'STALE', fence seen} or
-- {'NOCONFIG'}.

local now = now_ms()
local cfg = load_config()
if not cfg then
  return {'NOCONFIG'}
end
local fence = tonumber(ARGV[2])
local seen_fence = tonumber(redis.call('HGET', K_STATE, 'fence')) or 0
if fence < seen_fence then
  return {'STALE', seen_fence}
end
if fence > seen_fence then
  redis.call('HSET', K_STATE, 'fence', fence)
end

local ended = redis.call('ZRANGEBYSCORE', K_ACTIVE, '-inf', now, 'LIMIT', 0, 1000)
if #ended > 0 then
  redis.call('ZREM', K_ACTIVE, unpack(ended))
  redis.call('HDEL', K_VISITORS, unpack(ended))
end
number_prequeue(cfg, now)

local second = math.floor(now / 1000)

-- Observed admissions per minute: the admissions after the oldest tick of the last minute,
-- over the time since that tick.
local function observe()
  local log = redis.call('HGETALL', K_ADMISSIONS)
  local oldest, oldest_count, sum, stale = nil, 0, 0, {}
  for i = 1, #log, 2 do
    local s, c = tonumber(log[i]), tonumber(log[i + 1])
    if s <= second - 60 then
      stale[#stale + 1] = log[i]
    else
      sum = sum + c
      if oldest == nil or s < oldest then
        oldest, oldest_count = s, c
      end
    end
  end
  if #stale > 0 then
    redis.call('HDEL', K_ADMISSIONS, unpack(stale))
  end
  local per_minute = 0
  if oldest ~= nil and second > oldest then
    per_minute = (sum - oldest_count) * 60 / (second - oldest)
  end
  redis.call('HSET', K_STATE, 'obs', string.format('%.1f', per_minute))
end

local K_LOG = KEYS[8]
local function log_tick(ph, bound, admitted, abandoned, active, waiting, fans)
  if #admitted == 0 and abandoned == 0 and waiting == 0 then
    return
  end
  local entry = {'t', now, 'p', ph, 'r', cfg.rate, 'm', cfg.max, 'b', bound, 'a', #admitted,
    's', abandoned, 'n', active, 'w', waiting}
  for i = 1, #fans do entry[#entry + 1] = fans[i] end
  redis.call('XADD', K_LOG, 'MAXLEN', '~', tonumber(ARGV[5]), '*', unpack(entry))
end

-- "<joined>,<eta>[,<lastEta>[,<early>,<late>]]" -> joined, eta, lastEta, early, late ('' for
-- what is unknown)
local function split_tail(tail)
  local parts, start = {}, 1
  while #parts < 5 do
    local comma = string.find(tail, ',', start, true)
    if not comma then
      parts[#parts + 1] = string.sub(tail, start)
      break
    end
    parts[#parts + 1] = string.sub(tail, start, comma - 1)
    start = comma + 1
  end
  return parts[1] or '', parts[2] or '', parts[3] or '', parts[4] or '', parts[5] or ''
end

-- admission/eta.py's error_bucket of relative_error: |actual - predicted| over the actual wait
-- (at least a second), in per cent, named by its bucket's upper edge
local ERROR_BUCKETS = {}
for edge = 0, 30 do ERROR_BUCKETS[#ERROR_BUCKETS + 1] = edge end
for edge = 35, 100, 5 do ERROR_BUCKETS[#ERROR_BUCKETS + 1] = edge end
for _, edge in ipairs({125, 150, 200, 300, 500, 1000}) do ERROR_BUCKETS[#ERROR_BUCKETS + 1] = edge end
local function error_bucket(actual_ms, predicted_ms)
  local percent = math.abs(actual_ms - predicted_ms) / math.max(actual_ms, 1000) * 100
  for _, edge in ipairs(ERROR_BUCKETS) do
    if percent <= edge then return tostring(edge) end
  end
  return 'inf'
end

local K_ERRORS = KEYS[9]
local function record_errors(counts)
  if next(counts) == nil then return end
  local minute = math.floor(now / 60000)
  local slot = minute % 10
  if tonumber(redis.call('HGET', K_ERRORS, 'm' .. slot)) ~= minute then
    local stale = {}
    for _, edge in ipairs(ERROR_BUCKETS) do
      stale[#stale + 1] = slot .. ':' .. edge
      stale[#stale + 1] = 'w' .. slot .. ':' .. edge
    end
    stale[#stale + 1] = slot .. ':inf'
    stale[#stale + 1] = 'w' .. slot .. ':inf'
    redis.call('HDEL', K_ERRORS, unpack(stale))
    redis.call('HSET', K_ERRORS, 'm' .. slot, minute)
  end
  -- counts: "<bucket>" of the error at join, "w<bucket>" of the worst answer's
  for name, count in pairs(counts) do
    if string.sub(name, 1, 1) == 'w' then
      redis.call('HINCRBY', K_ERRORS, 'wa:' .. string.sub(name, 2), count)
      redis.call('HINCRBY', K_ERRORS, 'w' .. slot .. ':' .. string.sub(name, 2), count)
    else
      redis.call('HINCRBY', K_ERRORS, 'a:' .. name, count)
      redis.call('HINCRBY', K_ERRORS, slot .. ':' .. name, count)
    end
  end
end

local ph = phase(cfg, now)
if ph ~= 'OPEN' then
  redis.call('HSET', K_STATE, 'bucket', 0, 'bucket_at', now, 'tick', tonumber(ARGV[3]))
  observe()
  log_tick(ph, '-', {}, 0, redis.call('ZCARD', K_ACTIVE), redis.call('ZCARD', K_WAITING), {})
  return {'OK', 0, 0, redis.call('ZCARD', K_ACTIVE), redis.call('ZCARD', K_WAITING), ph, cfg.ver,
    tonumber(redis.call('HGET', K_STATE, 'seq')) or 0}
end

local state = redis.call('HMGET', K_STATE, 'bucket', 'bucket_at', 'thru')
local bucket = tonumber(state[1]) or 0
local bucket_at = tonumber(state[2]) or now
local thru = tonumber(state[3]) or 0
-- The same sums, in the same order, as admission/rate.py (tests hold the two to each other).
local per_tick = cfg.rate * tonumber(ARGV[3]) / 60000
local cap = 2 * per_tick
if per_tick < 1 then cap = math.max(1 + per_tick, 2 * per_tick) end
bucket = math.min(cap, bucket + math.max(0, now - bucket_at) * cfg.rate / 60000)

local active = redis.call('ZCARD', K_ACTIVE)
local take = math.min(math.floor(bucket), math.max(0, cfg.max - active))
local limit = tonumber(ARGV[4])
local grace_ms = cfg.grace * 1000
local session_end = now + cfg.session * 1000
local admitted, abandoned, looked, logged, errors = {}, 0, 0, {}, {}

while #admitted < take and looked < limit do
  local popped = redis.call('ZPOPMIN', K_WAITING, math.min(take - #admitted, limit - looked))
  if #popped == 0 then
    break
  end
  local names = {}
  for i = 1, #popped, 2 do names[#names + 1] = popped[i] end
  local recs = redis.call('HMGET', K_VISITORS, unpack(names))
  local zargs, gone = {}, {}
  for j = 1, #names do
    looked = looked + 1
    local ticket, seen, tail = unpack_record(recs[j])
    if ticket > thru then thru = ticket end
    if not recs[j] or now - seen * 1000 > grace_ms then
      abandoned = abandoned + 1
      gone[#gone + 1] = names[j]
    else
      admitted[#admitted + 1] = names[j]
      zargs[#zargs + 1] = session_end
      zargs[#zargs + 1] = names[j]
      local joined, at_join, last_eta, early, late = split_tail(tail)
      logged[#logged + 1] = names[j]
      logged[#logged + 1] = ticket .. ',' .. joined .. ',' .. at_join .. ',' .. seen .. ',' ..
        last_eta .. ',' .. (early ~= '' and early or at_join) .. ',' ..
        (late ~= '' and late or at_join)
      local joined_s, eta_s = tonumber(joined), tonumber(at_join)
      if joined_s and eta_s then
        local name = error_bucket(now - joined_s * 1000, eta_s * 1000)
        errors[name] = (errors[name] or 0) + 1
      end
      local lo, hi = tonumber(early) or eta_s, tonumber(late) or eta_s  -- (join's answer alone)
      if joined_s and lo and hi then
        local actual_ms = now - joined_s * 1000
        local worst = lo
        if math.abs(actual_ms - hi * 1000) > math.abs(actual_ms - lo * 1000) then worst = hi end
        local name = 'w' .. error_bucket(actual_ms, worst * 1000)
        errors[name] = (errors[name] or 0) + 1
      end
    end
  end
  if #zargs > 0 then redis.call('ZADD', K_ACTIVE, unpack(zargs)) end
  if #gone > 0 then redis.call('HDEL', K_VISITORS, unpack(gone)) end
end

redis.call('HSET', K_STATE, 'bucket', string.format('%.6f', bucket - #admitted),
  'bucket_at', now, 'thru', thru, 'tick', tonumber(ARGV[3]))
if looked > 0 then  -- the abandonment share of the fans looked at lately (about 50 ticks)
  local ew = redis.call('HMGET', K_STATE, 'ew_in', 'ew_out')
  redis.call('HSET', K_STATE,
    'ew_in', string.format('%.3f', (tonumber(ew[1]) or 0) * 0.98 + #admitted),
    'ew_out', string.format('%.3f', (tonumber(ew[2]) or 0) * 0.98 + abandoned))
end
record_errors(errors)
if #admitted > 0 then redis.call('HINCRBY', K_STATE, 'admitted', #admitted) end
if abandoned > 0 then redis.call('HINCRBY', K_STATE, 'abandoned', abandoned) end
redis.call('HINCRBY', K_ADMISSIONS, second, #admitted)
observe()

local active_after, waiting_after = redis.call('ZCARD', K_ACTIVE), redis.call('ZCARD', K_WAITING)
if active_after > (tonumber(redis.call('HGET', K_STATE, 'peak')) or 0) then
  redis.call('HSET', K_STATE, 'peak', active_after)
end
local bound = 'R'
if #admitted < take then
  bound = 'E'
elseif take < math.floor(bucket) then
  bound = 'C'
end
log_tick(ph, bound, admitted, abandoned, active_after, waiting_after, logged)

local result = {'OK', #admitted, abandoned, active_after, waiting_after, ph, cfg.ver,
  tonumber(redis.call('HGET', K_STATE, 'seq')) or 0}
for i = 1, #admitted do result[#result + 1] = admitted[i] end
return result

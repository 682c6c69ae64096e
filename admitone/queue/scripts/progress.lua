-- progress.lua: the room as a whole, the same for every fan (progress) and for operators (stats).
-- Reads only.
--
-- KEYS[1..7] the room (see lib.lua)
-- ARGV[1] now (unix ms) or '' for Redis's TIME
--
-- Returns {phase, admittedThrough, waiting, active, admittedTotal, abandonedTotal,
-- observedPerMinute, now, mergedTotal} or {'NOCONFIG'}.

local now = now_ms()
local cfg = load_config()
if not cfg then
  return {'NOCONFIG'}
end
local st = redis.call('HMGET', K_STATE, 'thru', 'admitted', 'abandoned', 'obs', 'merged')
return {phase(cfg, now), tonumber(st[1]) or 0, redis.call('ZCARD', K_WAITING),
  redis.call('ZCARD', K_ACTIVE), tonumber(st[2]) or 0, tonumber(st[3]) or 0, st[4] or '0', now,
  tonumber(st[5]) or 0}

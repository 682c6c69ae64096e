-- leave.lua: take a visitor out of the room at once, waiting or admitted (its slot in
-- maxActive is freed). Also used when a booking is confirmed.
--
-- KEYS[1..7] the room (see lib.lua)
-- ARGV[1] now (unused; kept for the common ARGV shape)
-- ARGV[2] the visitor id
--
-- Returns 1 when the visitor was in the room, else 0.

local vid = ARGV[2]
local left = redis.call('ZREM', K_WAITING, vid)
if left > 0 then
  redis.call('HINCRBY', K_STATE, 'left', 1)  -- out of the queue by choice, not abandoned
end
local removed = left + redis.call('ZREM', K_ACTIVE, vid)
redis.call('HDEL', K_VISITORS, vid)
if removed > 0 then
  return 1
end
return 0

-- revoke.lua: an operator revokes a visitor: its access tokens stop working and its place or
-- slot is taken away, in one step.
--
-- KEYS[1..7] the room (see lib.lua)
-- ARGV[1] now (unix ms) or '' for Redis's TIME
-- ARGV[2] the visitor id
-- ARGV[3] until when the revocation must be remembered (unix ms: the latest token expiry)
--
-- Returns 1 when the visitor was in the room, else 0.

local now = now_ms()
local vid = ARGV[2]
local left = redis.call('ZREM', K_WAITING, vid)
if left > 0 then
  redis.call('HINCRBY', K_STATE, 'left', 1)  -- taken out of the queue: counted with leavers
end
local removed = left + redis.call('ZREM', K_ACTIVE, vid)
redis.call('HDEL', K_VISITORS, vid)
redis.call('ZADD', K_REVOKED, tonumber(ARGV[3]), vid)
redis.call('ZREMRANGEBYSCORE', K_REVOKED, '-inf', now)
if removed > 0 then
  return 1
end
return 0

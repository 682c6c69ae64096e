-- sync.lua: mirror a room's settings from PostgreSQL into Redis (on every operator change, and
-- whenever a script answered NOCONFIG because Redis lost its state), together with the
-- revocations PostgreSQL remembers. A new room state (first time, or Redis lost it) gets an
-- epoch and a ticket counter starting above every ticket handed out before.
--
-- KEYS[1] config  KEYS[2] state  KEYS[3] revoked (see queue/keys.py)
-- ARGV[1] an epoch for a new room state (random; kept if the state already has one)
-- ARGV[2] the ticket floor: a new state's counter starts there
-- ARGV[3] n, the number of settings that follow
-- ARGV[4 .. 3+2n] field, value pairs of the settings (the config hash is replaced)
-- ARGV[4+2n ..] visitor, until-ms pairs of revoked visitors
--
-- Returns the room state's epoch.

local n = tonumber(ARGV[3])
redis.call('DEL', KEYS[1])
if n > 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 4, 3 + 2 * n))
end
if redis.call('HSETNX', KEYS[2], 'epoch', ARGV[1]) == 1 then
  local seq = tonumber(redis.call('HGET', KEYS[2], 'seq')) or 0
  if tonumber(ARGV[2]) > seq then
    redis.call('HSET', KEYS[2], 'seq', ARGV[2])
  end
end
local revoked = {}
for i = 4 + 2 * n, #ARGV, 2 do
  revoked[#revoked + 1] = ARGV[i + 1]
  revoked[#revoked + 1] = ARGV[i]
end
if #revoked > 0 then
  redis.call('ZADD', KEYS[3], unpack(revoked))
end
return redis.call('HGET', KEYS[2], 'epoch')

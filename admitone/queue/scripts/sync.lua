-- sync.lua: mirror a room's settings from PostgreSQL into Redis (on every operator change, and
-- whenever a script answered NOCONFIG because Redis lost its state), together with the
-- revocations PostgreSQL remembers. A new room state (first time, or Redis lost it) gets an
-- epoch, a ticket counter starting above every ticket handed out before, and the active set
-- rebuilt from the sessions PostgreSQL recorded that have not ended (so maxActive holds after a
-- restart that lost the set; a revoked visitor is not put back).
--
-- KEYS[1] config  KEYS[2] state  KEYS[3] revoked  KEYS[4] active  KEYS[5] visitors
-- ARGV[1] an epoch for a new room state (random; kept if the state already has one)
-- ARGV[2] the ticket floor: a new state's counter starts there
-- ARGV[3] n, the number of settings that follow
-- ARGV[4] s, the number of live sessions that follow the settings
-- ARGV[5] now (unix ms): sessions ended by then are not put back
-- ARGV[6 .. 5+2n] field, value pairs of the settings (the config hash is replaced)
-- ARGV[6+2n .. 5+2n+2s] visitor, session-end-ms pairs of live sessions
-- ARGV[6+2n+2s ..] visitor, until-ms pairs of revoked visitors
--
-- Returns the room state's epoch.

local n, s, now = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local first_session, first_revoked = 6 + 2 * n, 6 + 2 * n + 2 * s
redis.call('DEL', KEYS[1])
if n > 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 6, 5 + 2 * n))
end
local revoked = {}
for i = first_revoked, #ARGV, 2 do
  revoked[#revoked + 1] = ARGV[i + 1]
  revoked[#revoked + 1] = ARGV[i]
end
if #revoked > 0 then
  redis.call('ZADD', KEYS[3], unpack(revoked))
end
if redis.call('HSETNX', KEYS[2], 'epoch', ARGV[1]) == 1 then
  local seq = tonumber(redis.call('HGET', KEYS[2], 'seq')) or 0
  if tonumber(ARGV[2]) > seq then
    redis.call('HSET', KEYS[2], 'seq', ARGV[2])
  end
  local seen = tostring(math.floor(now / 1000))
  for i = first_session, first_revoked - 1, 2 do
    local vid, ends = ARGV[i], tonumber(ARGV[i + 1])
    local until_ms = tonumber(redis.call('ZSCORE', KEYS[3], vid))
    if ends > now and not (until_ms and until_ms > now) then
      redis.call('ZADD', KEYS[4], ends, vid)
      redis.call('HSETNX', KEYS[5], vid, '0,' .. seen)
    end
  end
end
return redis.call('HGET', KEYS[2], 'epoch')

-- lease.lua: the scheduler lease. Exactly one scheduler may admit at a time: it holds the lease
-- key with a TTL and renews it while alive; when it dies the key expires and another takes it.
-- Each taking hands out a new fencing number, higher than any before (also after Redis lost
-- its state: it is at least the clock in ms), which admit.lua checks so a stale holder cannot
-- admit.
--
-- KEYS[1] the lease ("<holder>:<fence>")  KEYS[2] the fence counter (see queue/keys.py)
-- ARGV[1] the holder's id
-- ARGV[2] the lease's time to live (ms)
-- ARGV[3] 'hold' to take or renew, 'release' to give it up
--
-- Returns the holder's fencing number while it holds the lease, else 0.

local holder = ARGV[1]
local current = redis.call('GET', KEYS[1])
if current then
  local sep = string.find(current, ':', 1, true)
  local owner, fence = string.sub(current, 1, sep - 1), tonumber(string.sub(current, sep + 1))
  if owner ~= holder then
    return 0
  end
  if ARGV[3] == 'release' then
    redis.call('DEL', KEYS[1])
    return 0
  end
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return fence
end
if ARGV[3] == 'release' then
  return 0
end
local fence = redis.call('INCR', KEYS[2])
local t = redis.call('TIME')
local clock = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if fence < clock then
  fence = clock
  redis.call('SET', KEYS[2], fence)
end
redis.call('SET', KEYS[1], holder .. ':' .. fence, 'PX', tonumber(ARGV[2]))
return fence

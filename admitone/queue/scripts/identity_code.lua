-- identity_code.lua: try an e-mail one-time code (admission/identity.py), atomically.
--
-- KEYS[1] the code key (string: the live code's keyed hash)  KEYS[2] the identity's tries hash
-- ARGV[1] the keyed hash of the code tried
-- ARGV[2] how many wrong codes spend the live one
--
-- Returns 1 when the code was the live one (it is spent now), else 0.

local live = redis.call('GET', KEYS[1])
if not live then
  return 0
end
if live == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('HDEL', KEYS[2], 'wrong')
  return 1
end
if redis.call('HINCRBY', KEYS[2], 'wrong', 1) >= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
end
return 0

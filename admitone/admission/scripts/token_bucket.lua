-- Token bucket: take `cost` tokens from a bucket that refills at `rate` tokens per second and
-- holds at most `burst`. Time is the Redis server's (TIME), so every gateway replica shares
-- one clock. Only commands of Redis 6.2 and older are used (HMGET, HSET, PEXPIRE, TIME);
-- writes after TIME are fine because scripts replicate their effects since Redis 5.
--
-- KEYS[1]  the bucket: a hash {tokens, ts} (ts in microseconds of the Redis clock)
-- ARGV[1]  rate: tokens added per second (a number above 0, fractions allowed)
-- ARGV[2]  burst: the bucket's capacity (a number at least 1)
-- ARGV[3]  cost: tokens this call takes (1 if absent; at most burst)
--
-- Returns {allowed, retry_after_ms, tokens_left}: allowed is 1 or 0; retry_after_ms is 0 when
-- allowed, else the milliseconds until `cost` tokens are there; tokens_left is a string
-- (Lua numbers would be truncated to integers on the way out).

local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3] or '1')

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])

local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
    tokens = burst
    ts = now
end

local elapsed = now - ts
if elapsed < 0 then
    elapsed = 0
end
tokens = math.min(burst, tokens + elapsed * rate / 1000000)

local allowed = 0
local retry_ms = 0
if tokens >= cost then
    tokens = tokens - cost
    allowed = 1
else
    retry_ms = math.ceil((cost - tokens) * 1000 / rate)
end

-- Numbers, not tostring(): Redis formats them with 17 digits, tostring() with only 14.
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
-- An idle bucket is full again after burst / rate seconds; then it may as well not exist.
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)

return {allowed, retry_ms, string.format('%.6f', tokens)}

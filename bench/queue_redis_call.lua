-- A Redis script (not a wrk script): the "one Lua call" of the queue benchmark, run by
-- redis-benchmark (EVALSHA) and by bench/lua_app.py (POST /lua). The shape of a join:
-- take a number, queue a member under it.
--
-- KEYS[1] a counter, KEYS[2] a sorted set
-- ARGV[1] a new member
-- Returns the counter after INCR; the member is added to KEYS[2] with that number as score.
local n = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], n, ARGV[1])
return n

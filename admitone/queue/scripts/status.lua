-- status.lua: where a fan stands; keeps its place alive (refreshes lastSeen).
--
-- KEYS[1..7] the room (see lib.lua)
-- ARGV[1] now (unix ms) or '' for Redis's TIME
-- ARGV[2] the visitor id of a verified queue token
-- ARGV[3] that token's ticket number (0 for a pre-queue token)
-- ARGV[4] that token's epoch
--
-- Returns the visitor reply of lib.lua: WAITING / PREQUEUE / ADMITTED (at_ms = end of the
-- session); GONE when the place is over (left, abandoned, session ended, revoked); CLOSED,
-- NOTOPEN, or NOCONFIG (settings missing: sync and retry). A token of an older epoch (Redis
-- lost its state) gets its old place back.

local now = now_ms()
local cfg = load_config()
if not cfg then
  return {'NOCONFIG'}
end
local facts = read_facts()  -- (what the answer reads of the state: lib.lua says why once)
local ph = phase(cfg, now, facts)
if ph == 'NOTOPEN' then
  return reply('NOTOPEN', '', 0, 0, 0, cfg.opens, ph, nil, facts)
end
number_prequeue(cfg, now)

local vid = ARGV[2]
local rec = redis.call('HGET', K_VISITORS, vid)
if rec then
  local found = view(cfg, now, vid, rec, false, ph, facts)
  if found then
    return found
  end
  redis.call('HDEL', K_VISITORS, vid)
  return reply('GONE', vid, 0, 0, 0, 0, ph, nil, facts)
end
local ticket = tonumber(ARGV[3]) or 0
local epoch = facts.st[2] or ''
if ph ~= 'CLOSED' and ticket >= 1 and ARGV[4] ~= epoch and restore(vid, ticket, now) then
  return view(cfg, now, vid, redis.call('HGET', K_VISITORS, vid), false, ph, facts)
end
return reply('GONE', vid, 0, 0, 0, 0, ph, nil, facts)

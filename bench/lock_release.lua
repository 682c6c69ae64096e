-- wrk script: admitone's seat lock under load. Each request locks one random seat of the hot
-- show; a 200 queues a DELETE of that lock, sent as this thread's next request.
--
-- Args (after "--"): showId tokensFile seatCount seatsPerRow hotSeats
--   Locks pick among the first hotSeats seats only (all of them by default).
--   tokensFile holds threads * seatCount access tokens, one a line: line t*seatCount + i is the
--   token thread t uses for seat i, so every (thread, seat) is its own visitor, holds at most
--   one seat, and a lock's visitor is found again from the seat id in its response.
-- Output: "RESULT {json}" with wrk's totals, p50/p90/p99 over all requests (locks and
--   releases), and the outcome counts: locked (lock 200), conflicts (lock 409), released
--   (release 200), server_errors (5xx) and other (any other status or an unreadable 200).

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  show_id = args[1]
  local seat_count, per_row = tonumber(args[3]), tonumber(args[4])
  local first, n = id * seat_count, 0
  tokens, seats, seat_index, pending = {}, {}, {}, {}
  for line in io.lines(args[2]) do
    if n >= first and n < first + seat_count then tokens[#tokens + 1] = line end
    n = n + 1
  end
  for i = 0, seat_count - 1 do
    local seat = string.char(65 + math.floor(i / per_row)) .. tostring(i % per_row + 1)
    seats[i + 1] = seat
    seat_index[seat] = i + 1
  end
  hot = math.min(tonumber(args[5] or seat_count), seat_count)
  locked, conflicts, released, server_errors, other = 0, 0, 0, 0, 0
  math.randomseed(os.time() * 1000 + id * 7919)
end

function request()
  local p = table.remove(pending)
  if p then
    return wrk.format("DELETE", "/api/v1/bookings/lock/" .. p[1],
                      { ["Authorization"] = "Bearer " .. p[2] })
  end
  local i = math.random(hot)
  local body = '{"showId":"' .. show_id .. '","seatIds":["' .. seats[i] .. '"]}'
  return wrk.format("POST", "/api/v1/bookings/lock",
                    { ["Authorization"] = "Bearer " .. tokens[i],
                      ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if status == 200 then
    local lock_id = string.match(body, '"lockId":"([%x%-]+)"')
    local seat = lock_id and string.match(body, '"id":"(%u+%d+)"')
    if seat and seat_index[seat] then
      locked = locked + 1
      pending[#pending + 1] = { lock_id, tokens[seat_index[seat]] }
    elseif string.find(body, '"success":true', 1, true) then
      released = released + 1
    else
      other = other + 1
    end
  elseif status == 409 then
    conflicts = conflicts + 1
  elseif status >= 500 then
    server_errors = server_errors + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local c = { locked = 0, conflicts = 0, released = 0, server_errors = 0, other = 0 }
  for _, thread in ipairs(threads) do
    for k, _ in pairs(c) do c[k] = c[k] + (thread:get(k) or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"rps":%.1f,"non2xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"locked":%d,"conflicts":%d,' ..
    '"released":%d,"server_errors":%d,"other":%d}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6), e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, c.locked, c.conflicts, c.released, c.server_errors,
    c.other))
end

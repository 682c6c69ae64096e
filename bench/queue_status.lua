-- wrk script: admitone's queue status under load. Each request is GET <the URL given to wrk>
-- with "User-Agent: bench" and the next fan's X-Queue-Token; every thread cycles through all
-- the tokens, each starting at its own offset.
--
-- Args (after "--"): tokensFile threadCount
--   One queue token a line, from joins the bench made with "User-Agent: bench" (a queue token
--   is bound to the client's network and User-Agent).
-- Output: "RESULT {json}" with wrk's totals, p50/p90/p99/max latency (us) and the outcome
--   counts: waiting (200 WAITING or PREQUEUE), admitted (200 ADMITTED: an access token was
--   signed), gone (410), unauthorized (401), server_errors (5xx), other (anything else).

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  tokens = {}
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  if #tokens == 0 then error("no tokens in " .. args[1]) end
  next_index = math.floor(id * #tokens / tonumber(args[2] or 1)) % #tokens
  headers = { ["User-Agent"] = "bench" }
  waiting, admitted, gone, unauthorized, server_errors, other = 0, 0, 0, 0, 0, 0
end

function request()
  next_index = next_index % #tokens + 1
  headers["X-Queue-Token"] = tokens[next_index]
  return wrk.format("GET", nil, headers)
end

function response(status, hdrs, body)
  if status == 200 then
    if string.find(body, '"status":"WAITING"', 1, true)
        or string.find(body, '"status":"PREQUEUE"', 1, true) then
      waiting = waiting + 1
    elseif string.find(body, '"status":"ADMITTED"', 1, true) then
      admitted = admitted + 1
    else
      other = other + 1
    end
  elseif status == 410 then
    gone = gone + 1
  elseif status == 401 then
    unauthorized = unauthorized + 1
  elseif status >= 500 then
    server_errors = server_errors + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local c = { waiting = 0, admitted = 0, gone = 0, unauthorized = 0, server_errors = 0,
              other = 0 }
  for _, thread in ipairs(threads) do
    for k, _ in pairs(c) do c[k] = c[k] + (thread:get(k) or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"rps":%.1f,"non2xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"waiting":%d,"admitted":%d,"gone":%d,' ..
    '"unauthorized":%d,"server_errors":%d,"other":%d}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6), e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, c.waiting, c.admitted, c.gone, c.unauthorized,
    c.server_errors, c.other))
end

-- wrk script: one fixed request (the URL given to wrk) with a method of choice and
-- "User-Agent: bench", built once: no per-request Lua, so wrk runs at full speed.
-- Used for admitone's queue join and progress, and the Lua-call app.
--
-- Args (after "--"): method (default GET)
--   The User-Agent matters: queue tokens are bound to the client's network and User-Agent, so
--   fans joined by the bench with "User-Agent: bench" are the same clients as wrk's requests.
-- Output: "RESULT {json}" with requests, duration_us, rps, non2xx (status >= 400, wrk's
--   count), socket_errors and p50/p90/p99/max latency (us).

function init(args)
  wrk.method = args[1] or "GET"
  wrk.headers["User-Agent"] = "bench"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"rps":%.1f,"non2xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6), e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end

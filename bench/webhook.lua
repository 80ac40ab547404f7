-- wrk script for bench/webhook.py: POST /callback with pre-generated, pre-signed bodies.
--
-- Lua in wrk cannot compute HMAC-SHA256, and every event needs a fresh webhookEventId (the
-- app stores each ID once), so Python writes the bodies beforehand: one file per wrk thread,
-- "<signature>\t<body>" per line. Usage: wrk -s webhook.lua URL -- <file prefix>
-- Thread n reads "<prefix><n>.tsv" and sends its lines in order; when it runs out it starts
-- again and counts `wrapped` (harmless for the bare endpoint, a duplicate for the app).

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  signatures, bodies = {}, {}
  for line in io.lines(args[1] .. id .. ".tsv") do
    local tab = line:find("\t", 1, true)
    signatures[#signatures + 1] = line:sub(1, tab - 1)
    bodies[#bodies + 1] = line:sub(tab + 1)
  end
  index, sent, ok, non2xx, wrapped = 0, 0, 0, 0, 0
end

function request()
  index = index + 1
  if index > #bodies then
    index, wrapped = 1, wrapped + 1
  end
  sent = sent + 1
  local headers = {
    ["Content-Type"] = "application/json; charset=utf-8",
    ["x-line-signature"] = signatures[index],
  }
  return wrk.format("POST", "/callback", headers, bodies[index])
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  elseif status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

-- One JSON line for bench/webhook.py to parse; wrk's own summary is printed above it.
function done(summary, latency, requests)
  local totals = { sent = 0, ok = 0, non2xx = 0, wrapped = 0 }
  for _, thread in ipairs(threads) do
    for key, value in pairs(totals) do
      totals[key] = value + thread:get(key)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us": %d, "responses": %d, "sent": %d, "ok": %d, "non2xx": %d, '
      .. '"wrapped": %d, "socket_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, '
      .. '"p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.duration, summary.requests, totals.sent, totals.ok, totals.non2xx,
    totals.wrapped, e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end

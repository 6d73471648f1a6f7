-- Shared by the bench/wrk scripts: counts non-2xx responses per thread and prints one JSON line
-- ("BENCHJSON {...}") in done() that bench.py parses. Loaded with dofile() from each script.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

non2xx = 0
issued = 0
maxidx = -1
exhausted = 0
sample = ""
statuses = {}

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
    if sample == "" and body ~= nil then sample = string.sub(body, 1, 240) end
  end
end

local function jstr(s)
  s = tostring(s or "")
  s = s:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('\n', '\\n'):gsub('\r', '\\r'):gsub('\t', '\\t')
  s = s:gsub('[%c]', '')
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local n2, iss, mx, ex, smp = 0, 0, -1, 0, ""
  local st = {}
  for _, t in ipairs(threads) do
    n2 = n2 + (t:get("non2xx") or 0)
    iss = iss + (t:get("issued") or 0)
    local m = t:get("maxidx") or -1
    if m > mx then mx = m end
    ex = ex + (t:get("exhausted") or 0)
    local s = t:get("sample") or ""
    if smp == "" and s ~= "" then smp = s end
    local ts = t:get("statuses") or {}
    for k, v in pairs(ts) do st[k] = (st[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(st) do table.insert(parts, jstr(k) .. ":" .. v) end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"issued":%d,"maxidx":%d,' ..
    '"exhausted":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"statuses":{%s},"sample":%s}\n',
    summary.requests, summary.duration, summary.bytes, n2, iss, mx, ex,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ","), jstr(smp)))
end

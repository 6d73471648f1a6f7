-- Refresh tokens rotate, so every request needs an unused one. bench.py pre-mints a pool (one token a
-- line) and passes the file and the first unused line; thread t of T takes lines OFFSET+t, +T, +2T, ...
-- When its share runs out the thread stops (reported as "exhausted": that run is not valid).
--   wrk ... -s refresh.lua URL -- PATH BODY_PREFIX TOKENS_FILE OFFSET NTHREADS
-- The request body is BODY_PREFIX .. urlencoded(token).
dofile((os.getenv("BENCH_WRK_DIR") or ".") .. "/common.lua")

local path, prefix, tokens, offset, nthreads, k
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  path, prefix = args[1], args[2]
  offset, nthreads = tonumber(args[4]), tonumber(args[5])
  tokens = {}
  local i = 0
  for line in io.lines(args[3]) do
    if i >= offset and (i - offset) % nthreads == tid then table.insert(tokens, line) end
    i = i + 1
  end
  k = 0
end

function request()
  k = k + 1
  local token = tokens[k]
  if token == nil then
    exhausted = 1
    wrk.thread:stop()
    token = tokens[#tokens] or "exhausted"
  else
    issued = issued + 1
    local idx = offset + tid + (k - 1) * nthreads
    if idx > maxidx then maxidx = idx end
  end
  return wrk.format("POST", path, headers, prefix .. urlencode(token))
end

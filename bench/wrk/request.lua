-- One fixed request, pre-built once per thread.
--   wrk ... -s request.lua URL -- METHOD PATH BODY [Header:Value ...]
-- BODY "-" means no body. POST bodies are sent as application/x-www-form-urlencoded.
dofile((os.getenv("BENCH_WRK_DIR") or ".") .. "/common.lua")

local req

function init(args)
  local method, path, body = args[1], args[2], args[3]
  local headers = {}
  if body == "-" then body = nil else headers["Content-Type"] = "application/x-www-form-urlencoded" end
  for i = 4, #args do
    local k, v = string.match(args[i], "^([^:]+):(.*)$")
    headers[k] = v
  end
  req = wrk.format(method, path, headers, body)
end

function request()
  issued = issued + 1
  return req
end

-- wrk script for bench/run and bench/signin: POST /api/v1/login (the
-- password step) with the body and Origin from the environment, counting
-- answers by status: 200 (a partial session), 503 (every hashing slot busy,
-- or nginx's bound on the sign-ins in flight), 429 (nginx's rate limits),
-- anything else.
-- BENCH_XFF: unset or empty, no X-Forwarded-For (the host itself); "many",
-- a random address of 10.0.0.0/8 for each request (a flood from many
-- addresses, through a proxy that nginx trusts); else that one address.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_LOGIN_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = os.getenv("BENCH_ORIGIN")

local xff = os.getenv("BENCH_XFF") or ""
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  ok, busy, limited, other = 0, 0, 0, 0
  math.randomseed(os.time() * 1000 + id)
end

if xff == "many" then
  request = function()
    wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d",
      math.random(0, 255), math.random(0, 255), math.random(1, 254))
    return wrk.format()
  end
elseif xff ~= "" then
  wrk.headers["X-Forwarded-For"] = xff
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  elseif status == 503 then
    busy = busy + 1
  elseif status == 429 then
    limited = limited + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local o, b, l, x = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    b = b + t:get("busy")
    l = l + t:get("limited")
    x = x + t:get("other")
  end
  io.write(string.format("STATUS ok=%d busy=%d other=%d limited=%d\n", o, b, x, l))
end

-- wrk script for bench/appointments: POST /api/v1/appointments, one
-- prepared booking per request, read from BENCH_REQUESTS (lines
-- "cookie<TAB>csrf<TAB>json body": distinct slots, and never two bookings of
-- one member on one agenda and day). Thread i of n takes lines i, i+n, ...
-- Answers counted by status: 201 booked, 409 refused, anything else; when
-- a thread has used its lines it asks /api/v1/health instead (counted apart).
local threads = {}
local count = 0

function setup(thread)
  thread:set("id", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  ok, conflict, other, spare = 0, 0, 0, 0
  reqs = {}
  local origin = os.getenv("BENCH_ORIGIN")
  local n = tonumber(os.getenv("BENCH_THREADS"))
  local i = 0
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    if i % n == id then
      local cookie, csrf, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      table.insert(reqs, wrk.format("POST", "/api/v1/appointments", {
        ["Content-Type"] = "application/json", ["Origin"] = origin,
        ["Cookie"] = cookie, ["X-CSRF-Token"] = csrf }, body))
    end
    i = i + 1
  end
  spare_req = wrk.format("GET", "/api/v1/health")
  idx = 0
end

function request()
  idx = idx + 1
  return reqs[idx] or spare_req
end

function response(status, headers, body)
  if status == 201 then
    ok = ok + 1
  elseif status == 409 then
    conflict = conflict + 1
  elseif status == 200 then
    spare = spare + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local o, c, x, s = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    c = c + t:get("conflict")
    x = x + t:get("other")
    s = s + t:get("spare")
  end
  io.write(string.format("STATUS ok=%d conflict=%d other=%d spare=%d\n", o, c, x, s))
end

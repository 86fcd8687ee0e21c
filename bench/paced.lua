-- wrk script for bench/signin's reader of GET /api/v1/me during a sign-in
-- flood: each connection waits BENCH_PACE_MS (default 80) before each of
-- its requests, so that C connections ask at most C x 1000 / BENCH_PACE_MS
-- requests a second (16 x 1000 / 80 = 200/s) however fast they are
-- answered. Unpaced, the reader took what CPU the hashes left and the
-- sign-in figures measured the reader as much as the flood. A slower answer
-- lowers the rate (the pace is between an answer and the next request):
-- wrk's req/s is what was answered, its latency that of each request
-- (the wait not included).
local pace = tonumber(os.getenv("BENCH_PACE_MS") or "") or 80

function delay()
  return pace
end

# shellcheck shell=bash
# Shared set-up of bench/run, bench/jobs, bench/documents and bench/messaging:
# a private MariaDB, portaild and nginx under a work directory removed at
# exit, member sessions, wrk's figures and the sections of
# docs/performance.md. Source it after script/lib.sh; the caller sets BUILD
# and OUT, and SECONDS_PER and CONNS where it checks them with bench_bounds.

# bench_bounds NAME: BENCH_SECONDS 1..30 and BENCH_CONNECTIONS 1..16, or exit 2.
bench_bounds() {
  if [ "$SECONDS_PER" -lt 1 ] || [ "$SECONDS_PER" -gt 30 ] || [ "$CONNS" -lt 1 ] || [ "$CONNS" -gt 16 ]; then
    echo "$1: BENCH_SECONDS 1..30, BENCH_CONNECTIONS 1..16" >&2
    exit 2
  fi
}

# bench_test_modules TARGET...: builds them; test modules are built one folder
# each, module_dir ($BUILD/tests/modules/lib) gathers them.
bench_test_modules() {
  portail_build "$BUILD" >/dev/null
  make -C "$BUILD" -j"$(nproc)" "$@" >/dev/null
  mkdir -p "$BUILD/tests/modules/lib"
  local so
  for so in "$BUILD"/tests/modules/*/.libs/*.so; do ln -sf "$so" "$BUILD/tests/modules/lib/"; done
}

# bench_workdir NAME: WORK (removed at exit with everything started in it),
# PIDS (the processes to stop), MariaDB running with the database portail.
bench_workdir() {
  WORK="$(mktemp -d "/tmp/portail-$1.XXXXXX")"
  PIDS=()
  trap bench_cleanup EXIT
  echo "$1: work dir $WORK"
  portail_mariadb_start "$WORK"
  portail_create_db "$WORK" portail
  mkdir -p "$WORK/log" "$WORK/run"
  (umask 077 && head -c 32 /dev/urandom >"$WORK/secret.key")
}

bench_cleanup() {
  local p alive _
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  # libfcgi catches SIGTERM and only sets a flag, so a bare libfcgi program
  # blocked in accept never exits on it: whatever is left after a grace gets KILL.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    alive=0
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.5
  done
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  portail_nginx_stop "$WORK/nginx" 2>/dev/null || true
  portail_mariadb_stop "$WORK" 2>/dev/null || true
  rm -rf "$WORK"
}

sql() { portail_mariadb "$WORK" --batch --skip-column-names portail -e "$1"; }

# ticks PID...: utime + stime of these processes (every thread), in clock ticks.
ticks() {
  local p t=0 v
  for p in "$@"; do
    v="$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)"
    t=$((t + v))
  done
  echo "$t"
}
# machine_ticks: the busy ticks of every core (user, nice, system, irq,
# softirq; not idle, iowait or steal), from /proc/stat.
machine_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
nginx_workers() { pgrep -P "$(cat "$WORK/nginx/nginx.pid")" | xargs; }

# bench_portaild: migrates $WORK/portail.conf's database and starts portaild
# on it (PID); then bench_nginx_render (PORT, BASE; the caller may add
# locations to $WORK/nginx/nginx.conf) and bench_nginx_start (until health
# answers).
bench_portaild() {
  "$BUILD/portailctl" --config "$WORK/portail.conf" migrate >/dev/null
  # BENCH_PORTAILD_WRAP: a command to run portaild under (valgrind...).
  ${BENCH_PORTAILD_WRAP:-} "$BUILD/portaild" --config "$WORK/portail.conf" 2>"$WORK/log/portaild.err" &
  PID=$!
  PIDS+=("$PID")
}
bench_nginx_render() {
  PORT="$(portail_free_port)"
  BASE="http://127.0.0.1:$PORT"
  portail_nginx_render "$WORK/nginx" "$PORT" "$ROOT/web" "$WORK/run/portaild.sock" "$WORK/nginx/acl.conf" \
    "${BENCH_TRUSTED_PROXY:-}" "$("$BUILD/portaild" --nginx-values "$WORK/portail.conf")"
}
bench_nginx_start() {
  portail_nginx_start "$WORK/nginx"
  portail_wait_http "$BASE/api/v1/health" "${BENCH_START_S:-30}"
}

# ---- sessions ---------------------------------------------------------------
# The session cookie (NAME=VALUE) and CSRF token of a response's headers.
cookie_of() { sed -n 's/^[Ss]et-[Cc]ookie: \(__Host-portail_session=[^;]*\);.*/\1/p' "$1" | tail -n1; }
csrf_of() { sed -n 's/^[Xx]-[Cc][Ss][Rr][Ff]-[Tt]oken: \([0-9a-f]*\).*/\1/p' "$1" | tail -n1; }

# bench_test_login MEMBER_ID PREFIX: a member session by testmod's test
# login; PREFIX.cookie, PREFIX.csrf.
bench_test_login() {
  curl -fsS -D "$2.h" -o /dev/null -H "Origin: http://127.0.0.1" -H "Content-Type: application/json" \
    -d "{\"kind\":\"member\",\"id\":$1,\"level\":\"member\"}" "$BASE/api/v1/test/session/login"
  cookie_of "$2.h" >"$2.cookie"
  csrf_of "$2.h" >"$2.csrf"
}

# bench_sign_in PATH ID_BODY SECRET PREFIX: the password step at PATH with
# the JSON ID_BODY, then the current TOTP code of SECRET at PATH/totp, as a
# person does; PREFIX.cookie, PREFIX.csrf. The Origin is BENCH_SITE_ORIGIN
# (server.origin; http://127.0.0.1 unless set).
bench_sign_in() {
  local origin="${BENCH_SITE_ORIGIN:-http://127.0.0.1}"
  curl -fsS -m 30 -D "$4.pw.h" -o /dev/null -H "Origin: $origin" \
    -H "Content-Type: application/json" -d "$2" "$BASE$1"
  curl -fsS -m 30 -D "$4.h" -o /dev/null -H "Origin: $origin" \
    -H "Content-Type: application/json" -H "Cookie: $(cookie_of "$4.pw.h")" \
    -H "X-CSRF-Token: $(csrf_of "$4.pw.h")" \
    -d "{\"code\":\"$(oathtool --totp -b "$3")\"}" "$BASE$1/totp"
  cookie_of "$4.h" >"$4.cookie"
  csrf_of "$4.h" >"$4.csrf"
}

# bench_demo [CONF [DIR]]: `portailctl demo` on the seeded database of CONF
# ($WORK/portail.conf), through nginx at $BASE; the demo member signed in
# (DEMO_NIR, DEMO_PW, LOGIN_BODY, MEMBER_COOKIE: a Cookie header) and the demo
# supervisor (AGENT_COOKIE), both by password and TOTP; their headers in DIR
# ($WORK).
bench_demo() {
  local demo agent_pw conf="${1:-$WORK/portail.conf}" dir="${2:-$WORK}"
  demo="$(timeout 120 "$BUILD/portailctl" --config "$conf" demo --yes-this-is-a-demo-database)"
  DEMO_NIR="$(awk '$1 == "NIR" {print $NF; exit}' <<<"$demo")"
  DEMO_PW="$(awk '/mot de passe/ {print $NF; exit}' <<<"$demo")"
  LOGIN_BODY="{\"nir\":\"$DEMO_NIR\",\"password\":\"$DEMO_PW\"}"
  bench_sign_in /api/v1/login "$LOGIN_BODY" "$(awk '/secret TOTP/ {print $NF; exit}' <<<"$demo")" "$dir/member"
  # The callers' headers (this file alone does not use them).
  # shellcheck disable=SC2034
  MEMBER_COOKIE="Cookie: $(cat "$dir/member.cookie")"
  agent_pw="$(awk '/mot de passe/ {n++} /mot de passe/ && n == 2 {print $NF; exit}' <<<"$demo")"
  bench_sign_in /api/v1/backoffice/login "{\"login\":\"demo.superviseur\",\"password\":\"$agent_pw\"}" \
    "$(awk '/secret TOTP/ {n++} /secret TOTP/ && n == 2 {print $NF; exit}' <<<"$demo")" "$dir/agent"
  # shellcheck disable=SC2034
  AGENT_COOKIE="Cookie: $(cat "$dir/agent.cookie")"
}

# ---- figures ------------------------------------------------------------------
# wrk_fields < wrk's output: "req/s p50 p99 non2xx [ok busy other | ok other]",
# the last ones from a script's STATUS line.
wrk_fields() {
  local out non2xx
  out="$(cat)"
  non2xx="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
  printf '%s %s %s %s' "$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")" \
    "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" "${non2xx:-0}"
  printf ' %s\n' "$(sed -n 's/^STATUS ok=\([0-9]*\) \(busy=\([0-9]*\) \)\{0,1\}other=\([0-9]*\)/\1 \3 \4/p' <<<"$out" | xargs)"
}

# bench_login_wrk THREADS CONNS SECONDS URL [XFF]: wrk POSTing LOGIN_BODY
# (bench_demo's) with bench/login.lua, Origin BENCH_SITE_ORIGIN
# (http://127.0.0.1 unless set), X-Forwarded-For as login.lua's BENCH_XFF
# says; wrk's output. Bounded: wrk's own timeout, and timeout(1) beyond.
bench_login_wrk() {
  BENCH_LOGIN_BODY="$LOGIN_BODY" BENCH_ORIGIN="${BENCH_SITE_ORIGIN:-http://127.0.0.1}" BENCH_XFF="${5:-}" \
    timeout $(($3 + 60)) wrk -t"$1" -c"$2" -d"$3s" --timeout 30s -s "$ROOT/bench/login.lua" "$4"
}
# login_status < bench_login_wrk's output: "ok busy other limited", the
# counts of 200, 503, anything else and 429.
login_status() {
  sed -n 's/^STATUS ok=\([0-9]*\) busy=\([0-9]*\) other=\([0-9]*\) limited=\([0-9]*\)/\1 \2 \3 \4/p'
}

# bench_signin_unpaced NGINX_CONF: lifts nginx's pace of the sign-in routes
# (zone portail_signin_rate, server.signin_rate) to 100000 r/s in a rendered
# configuration, so that a bench measures the hashing, not the pace; prints
# the rate it replaced. Reload nginx after it.
bench_signin_unpaced() {
  local was
  was="$(sed -n 's/.*zone=portail_signin_rate:[^ ]* rate=\([0-9]*r\/s\).*/\1/p' "$1")"
  [ -n "$was" ] || { portail_log "$1: no portail_signin_rate zone"; return 1; }
  sed -i 's/\(zone=portail_signin_rate:[^ ]* rate=\)[0-9]*r\/s/\1100000r\/s/' "$1"
  printf '%s\n' "$was"
}

# bench_section FILE: replaces in $OUT the section whose "## " title is
# FILE's first line (up to the next "## " or the end), or appends it.
bench_section() {
  [ -f "$OUT" ] || echo "# Performance" >"$OUT"
  python3 - "$OUT" "$1" <<'PY'
import re, sys
out, section = sys.argv[1], open(sys.argv[2]).read()
text = open(out).read()
title = section.split("\n", 1)[0]
m = re.search(r"^%s\n.*?(?=^## |\Z)" % re.escape(title), text, re.S | re.M)
if m:
    text = text[:m.start()] + section + ("\n" if text[m.end():] else "") + text[m.end():]
else:
    text = text.rstrip("\n") + "\n\n" + section
open(out, "w").write(text)
PY
  echo "bench/$(basename "$0"): wrote the $(head -n1 "$1" | sed 's/^## //') section of $OUT"
}

# The 1-minute load average when the bench began, and the sentence that
# says what it means: a figure measured beside other work is noisy.
BENCH_LOAD0="$(cut -d' ' -f1 /proc/loadavg)"
bench_machine() {
  echo "a $(nproc)-core machine (1-minute load average $BENCH_LOAD0 when the run began; above"
  echo "about 0.5 other work shared the cores and every figure is noisy)"
}

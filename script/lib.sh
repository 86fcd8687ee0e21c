# shellcheck shell=bash
# Shared functions of script/server, script/test and bench/run.
# Source it after `set -euo pipefail`; every function returns non-zero (with a
# message on stderr) instead of exiting, except where noted.

PORTAIL_ROOT="${PORTAIL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
PORTAIL_PY=/usr/bin/python3   # Debian's: it has pytest, requests, aiosmtpd

portail_log() { printf '%s\n' "$*" >&2; }
portail_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# portail_render TEMPLATE OUTPUT KEY=VALUE...
# Replaces every @KEY@ of TEMPLATE; fails if a placeholder is left over.
portail_render() {
  local template="$1" out="$2" kv key val expr=()
  shift 2
  for kv in "$@"; do
    key="${kv%%=*}"
    val="${kv#*=}"
    val="${val//\\/\\\\}"
    val="${val//|/\\|}"
    val="${val//&/\\&}"
    expr+=(-e "s|@${key}@|${val}|g")
  done
  sed "${expr[@]}" "$template" >"$out.tmp"
  if grep -qE '@[A-Z][A-Z0-9_]*@' "$out.tmp"; then
    portail_log "render $template: placeholders left: $(grep -oE '@[A-Z][A-Z0-9_]*@' "$out.tmp" | sort -u | tr '\n' ' ')"
    rm -f "$out.tmp"
    return 1
  fi
  mv "$out.tmp" "$out"
}

# portail_free_port: prints a TCP port free on 127.0.0.1 right now.
portail_free_port() {
  "$PORTAIL_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# portail_pid_alive PIDFILE: true when the file names a live process.
portail_pid_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid="$(cat "$1")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null
}

# portail_stop_pidfile PIDFILE [SECONDS] [SIGNAL]: signal (TERM by default),
# wait, then KILL after SECONDS (default 15). Removes the pid file.
portail_stop_pidfile() {
  local pidfile="$1" timeout="${2:-15}" sig="${3:-TERM}" pid i
  if ! portail_pid_alive "$pidfile"; then
    rm -f "$pidfile"
    return 0
  fi
  pid="$(cat "$pidfile")"
  kill -"$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    portail_log "pid $pid ($pidfile) still running after ${timeout}s: KILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$pidfile"
}

# portail_spawn PIDFILE OUTFILE CMD...: starts CMD in a session of its own,
# stdout and stderr appended to OUTFILE, its pid in PIDFILE. A small bash
# parent (the reaper) waits for it and writes its exit status to
# PIDFILE.exit: a process that is not our child leaves no status behind, and
# script/supervise says why a service died from that file. PIDFILE.pgid is
# the process group of the service and its children.
portail_spawn() {
  local pidfile="$1" out="$2" i
  shift 2
  rm -f "$pidfile" "$pidfile.exit"
  # shellcheck disable=SC2016
  setsid bash -c '
    pidfile="$1" out="$2"
    shift 2
    "$@" </dev/null >>"$out" 2>&1 &
    pid=$!
    # The process group (this session) outlives a killed master: its
    # children (nginx workers) are ended with it before a restart.
    echo "$$" >"$pidfile.pgid"
    echo "$pid" >"$pidfile.reaper"
    mv -f "$pidfile.reaper" "$pidfile"
    # A signal meant for the service must not end the reaper first.
    trap "" TERM INT HUP
    while :; do
      wait "$pid"
      rc=$?
      kill -0 "$pid" 2>/dev/null || break
    done
    echo "$rc" >"$pidfile.exit"
  ' portail-reaper "$pidfile" "$out" "$@" </dev/null >/dev/null 2>&1 &
  disown
  for ((i = 0; i < 50; i++)); do
    [ -s "$pidfile" ] && return 0
    sleep 0.1
  done
  portail_log "no pid in $pidfile after 5 s: $*"
  return 1
}

# portail_exit_cause PIDFILE: why the process of PIDFILE ended, in words,
# from PIDFILE.exit (portail_spawn).
portail_exit_cause() {
  local rc
  [ -s "$1.exit" ] || { echo "exit status unknown (not started by portail_spawn)"; return 0; }
  rc="$(cat "$1.exit")"
  if [[ "$rc" =~ ^[0-9]+$ ]] && [ "$rc" -gt 128 ] && [ "$rc" -le 192 ]; then
    echo "killed by SIG$(kill -l "$((rc - 128))" 2>/dev/null || echo "$((rc - 128))") (status $rc)"
  else
    echo "exited with status $rc"
  fi
}

# portail_wait_http URL SECONDS: until curl -fsS URL answers.
portail_wait_http() {
  local url="$1" timeout="${2:-30}" i
  for ((i = 0; i < timeout * 10; i++)); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  portail_log "no answer from $url after ${timeout}s"
  return 1
}

# ---- MariaDB -------------------------------------------------------------
# A private server under BASE: BASE/db (data), BASE/run/mysqld.sock,
# BASE/run/mysqld.pid, BASE/log/mariadb.log. Unix socket only.

portail_mariadb_socket() { printf '%s/run/mysqld.sock\n' "$1"; }

portail_mariadb_running() {
  local base="$1"
  portail_pid_alive "$base/run/mysqld.pid" &&
    mariadb-admin --no-defaults --connect-timeout=2 -S "$base/run/mysqld.sock" -uroot ping >/dev/null 2>&1
}

# portail_mariadb_install BASE USER: the system tables in BASE/db, once
# (mariadb-install-db; its output in BASE/log/mariadb-install.log).
portail_mariadb_install() {
  local base="$1" user="$2"
  mkdir -p "$base/db" "$base/log" "$base/tmp"
  [ ! -d "$base/db/mysql" ] || return 0
  if ! mariadb-install-db --no-defaults --datadir="$base/db" --user="$user" \
    --auth-root-authentication-method=normal --skip-test-db --tmpdir="$base/tmp" \
    >"$base/log/mariadb-install.log" 2>&1; then
    portail_log "mariadb-install-db failed, see $base/log/mariadb-install.log"
    tail -n 20 "$base/log/mariadb-install.log" >&2
    return 1
  fi
}

# portail_mariadbd_args BASE USER: sets the array PORTAIL_MARIADBD_ARGS to
# the mariadbd command line every private server shares (paths under BASE,
# utf8mb4, buffer pool, connections); callers add their own flags after it
# (networking, durability, Galera).
portail_mariadbd_args() {
  local base="$1" user="$2"
  PORTAIL_MARIADBD_ARGS=(mariadbd --no-defaults --datadir="$base/db"
    --socket="$base/run/mysqld.sock" --pid-file="$base/run/mysqld.pid"
    --tmpdir="$base/tmp" --user="$user" --log-error="$base/log/mariadb.log"
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci
    --skip-name-resolve --innodb-buffer-pool-size=128M --max-connections=500)
}

# portail_mariadb_start BASE: initialises BASE/db once, starts the server if
# it does not run, waits until it answers (30 s at most).
portail_mariadb_start() {
  local base="$1" i
  mkdir -p "$base/db" "$base/run" "$base/log"
  if portail_mariadb_running "$base"; then
    return 0
  fi
  # A tmpdir of its own: two servers started at once collide in /tmp.
  mkdir -p "$base/tmp"
  portail_mariadb_install "$base" root || return 1
  rm -f "$base/run/mysqld.sock" "$base/run/mysqld.pid"
  # Durable commits (MariaDB's defaults, stated): the redo log is written and
  # flushed at every commit, pages go through the doublewrite buffer; no
  # binary log, so sync_binlog does not apply (docs/security.md).
  portail_mariadbd_args "$base" root
  portail_spawn "$base/run/mysqld.pid" "$base/log/mariadb.stderr" \
    "${PORTAIL_MARIADBD_ARGS[@]}" --skip-networking \
    --innodb-flush-log-at-trx-commit=1 --innodb-doublewrite=1 || return 1
  for ((i = 0; i < 300; i++)); do
    if mariadb-admin --no-defaults --connect-timeout=2 -S "$base/run/mysqld.sock" -uroot ping >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  portail_log "MariaDB did not answer within 30 s, see $base/log/mariadb.log"
  tail -n 20 "$base/log/mariadb.log" >&2 || true
  return 1
}

portail_mariadb_stop() {
  portail_stop_pidfile "$1/run/mysqld.pid" 60
  rm -f "$1/run/mysqld.sock"
}

# portail_mariadb BASE ARGS...: the mariadb client on the private server.
portail_mariadb() {
  local base="$1"
  shift
  mariadb --no-defaults -S "$base/run/mysqld.sock" -uroot "$@"
}

# portail_create_db BASE NAME
portail_create_db() {
  portail_mariadb "$1" -e "CREATE DATABASE IF NOT EXISTS \`$2\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
}

# ---- build ---------------------------------------------------------------

# portail_autoreconf: only when configure is missing or older than its inputs
# (modules.am regenerated first).
portail_autoreconf() {
  local src="$PORTAIL_ROOT"
  # modules.am lists the module folders' build fragments (script/modules-am);
  # it changes only when a folder is added or removed.
  "$src/script/modules-am" || return 1
  if [ ! -x "$src/configure" ] || [ "$src/modules.am" -nt "$src/Makefile.in" ] ||
    [ "$src/configure.ac" -nt "$src/configure" ] ||
    [ "$src/Makefile.am" -nt "$src/configure" ] || [ ! -f "$src/Makefile.in" ] ||
    [ "$src/Makefile.am" -nt "$src/Makefile.in" ]; then
    (cd "$src" && autoreconf -fi)
  fi
}

# portail_build BUILDDIR [CONFIGURE ARGS...]: out-of-tree build with `make`.
# Re-runs configure when the directory is new or its arguments changed.
portail_build() {
  local dir="$1" stamp want
  shift
  portail_autoreconf || return 1
  mkdir -p "$dir"
  stamp="$dir/.portail-configure-args"
  want="$*"
  if [ ! -f "$dir/Makefile" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    (cd "$dir" && "$PORTAIL_ROOT/configure" "$@") || return 1
    printf '%s' "$want" >"$stamp"
  fi
  make -C "$dir" -j"$(nproc)"
}

# ---- nginx ---------------------------------------------------------------

# portail_real_ip_from "ADDR, ADDR ..." -> the set_real_ip_from directives of
# those trusted proxies on one line, or a comment when there are none.
portail_real_ip_from() {
  local out="" p
  for p in ${1//,/ }; do
    case "$p" in
      *[!0-9a-fA-F.:/]*) portail_log "trusted proxy: not an address: $p"; return 1 ;;
    esac
    out="${out:+$out }set_real_ip_from $p;"
  done
  printf '%s' "${out:-# no trusted proxy: X-Forwarded-For is ignored}"
}

# portail_nginx_render PREFIX PORT WEBROOT FCGI_SOCKET BACKOFFICE_ACL TRUSTED_PROXIES VALUES
# Writes PREFIX/nginx.conf from nginx/portail.conf.in and checks it.
# TRUSTED_PROXIES: addresses or networks whose X-Forwarded-For is believed
# (none when empty). VALUES: what `portaild --nginx-values portail.conf`
# prints (KEY=VALUE lines: the sign-in pace, server.signin_rate).
portail_nginx_render() {
  local prefix="$1" port="$2" webroot="$3" sock="$4" acl="$5" real_ip values=()
  real_ip="$(portail_real_ip_from "${6:-}")" || return 1
  # shellcheck disable=SC2206  # KEY=VALUE words, no spaces in them
  values=(${7:-})
  mkdir -p "$prefix/logs" "$prefix/tmp"
  [ -f "$acl" ] || printf 'allow all;\n' >"$acl"
  portail_render "$PORTAIL_ROOT/nginx/portail.conf.in" "$prefix/nginx.conf" \
    PREFIX="$prefix" PORT="$port" WEBROOT="$webroot" FCGI_SOCKET="$sock" \
    GEOIP_DAT=/usr/share/GeoIP/GeoIP.dat BACKOFFICE_ACL="$acl" REAL_IP_FROM="$real_ip" \
    USER="$(id -un)" GROUP="$(id -gn)" "${values[@]}" || return 1
  local out
  if ! out="$(nginx -t -c "$prefix/nginx.conf" -p "$prefix" 2>&1)"; then
    printf '%s\n' "$out" | grep -v 'the "user" directive makes sense only' >&2
    return 1
  fi
}

# portail_nginx_start PREFIX: daemonised, pid in PREFIX/nginx.pid; reloads
# the configuration when it already runs.
portail_nginx_start() {
  local prefix="$1" i
  if portail_pid_alive "$prefix/nginx.pid"; then
    kill -HUP "$(cat "$prefix/nginx.pid")"
    return 0
  fi
  nginx -c "$prefix/nginx.conf" -p "$prefix" 2>&1 | grep -v 'the "user" directive makes sense only' >&2 || true
  for ((i = 0; i < 50; i++)); do
    portail_pid_alive "$prefix/nginx.pid" && return 0
    sleep 0.1
  done
  portail_log "nginx did not start, see $prefix/logs/error.log"
  tail -n 20 "$prefix/logs/error.log" >&2 || true
  return 1
}

portail_nginx_stop() {
  portail_stop_pidfile "$1/nginx.pid" 15 TERM
}

# redis-procs.sh: helpers that redis-cluster.sh and redis-sentinel.sh source
# to run throwaway redis-server processes on 127.0.0.1. The caller sets
# $host, $dir (one subdirectory per port, holding redis.pid and redis.log)
# and a log function before sourcing this file.

cli() { redis-cli -h "$host" -p "$1" "${@:2}"; }

# ours PORT: the pid of the redis-server started on PORT under $dir, if alive.
ours() {
  local f=$dir/$1/redis.pid pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f" 2>/dev/null) || return 1
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "redis-server.*:$1\b" || return 1
  echo "$pid"
}

# stop_ours PORT...: kills the servers started on those ports under $dir,
# waits for them to exit, and removes $dir.
stop_ours() {
  local p pid pids=""
  for p in "$@"; do
    if pid=$(ours "$p"); then
      kill "$pid" 2>/dev/null || true
      pids="$pids $pid"
    fi
  done
  for pid in $pids; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
}

# ports_free PORT...: fails, saying which, when a server answers on one.
ports_free() {
  local p
  for p in "$@"; do
    if cli "$p" ping >/dev/null 2>&1; then
      log "port $p is taken by a server this script did not start; choose another base port"
      return 1
    fi
  done
}

# await_ping PORT...: waits up to 10 s for each server to answer.
await_ping() {
  local p
  for p in "$@"; do
    for _ in $(seq 100); do cli "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
    cli "$p" ping >/dev/null 2>&1 || { log "server $p did not start; see $dir/$p/redis.log"; return 1; }
  done
}

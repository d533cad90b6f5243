#!/usr/bin/env bash
# redis-sentinel.sh start|stop|running [base-port]
#
# Starts (or stops) a throwaway local Redis with Sentinel, for tests: a
# master on 127.0.0.1:base, two replicas on base+1 and base+2, and three
# Sentinels on base+3..base+5 (default base 7200) that monitor the master as
# "sessionkit" with a quorum of 2: the layout Sentinel is meant to run in.
#
# start  launches the five processes bound to 127.0.0.1 only, without
#        persistence, with their files under
#        $SESSIONKIT_REDIS_SENTINEL_DIR (default ${TMPDIR:-/tmp}/sessionkit-redis-sentinel-<base>),
#        waits until every Sentinel knows the master, both replicas and the
#        other two Sentinels and both replicas' links are up, and prints a
#        sessionkit URL for it as the last line of stdout:
#            export SESSIONKIT_REDIS_SENTINEL=$(scripts/redis-sentinel.sh start | tail -n 1)
#        Starting a setup that is already up only prints the URL again.
# stop   kills exactly the processes this script started for that base port
#        (by their pid files, checked against their command line) and
#        removes the directory. Stopping a setup that is not running is fine.
# running exits 0 when the setup this script starts on that base port is up
#        and healthy, 1 otherwise.
#
# A failover (a test may force one with SENTINEL FAILOVER) moves the master
# to another port. Clients find it through the Sentinels.
#
# The data nodes keep Redis's defaults, so a failover behaves as it does in
# most deployments: replication is asynchronous, and the writes the old
# master accepts between the promotion and the switch are discarded when it
# rejoins as a replica.
set -euo pipefail

cmd=${1:-}
base=${2:-7200}
case $base in '' | *[!0-9]*) echo "redis-sentinel.sh: bad base port: $base" >&2; exit 2 ;; esac
data_ports="$base $((base + 1)) $((base + 2))"
sentinel_ports="$((base + 3)) $((base + 4)) $((base + 5))"
dir=${SESSIONKIT_REDIS_SENTINEL_DIR:-${TMPDIR:-/tmp}/sessionkit-redis-sentinel-$base}
host=127.0.0.1
name=sessionkit

log() { printf 'redis-sentinel.sh: %s\n' "$*" >&2; }
# shellcheck source=scripts/redis-procs.sh
. "$(dirname "$0")/redis-procs.sh"

url() {
  local s="" p
  for p in $sentinel_ports; do s="$s${s:+,}$host:$p"; done
  echo "redis+sentinel://$s/0?master_name=$name"
}

healthy() {
  local p
  for p in $data_ports $sentinel_ports; do ours "$p" >/dev/null || return 1; done
  for p in $sentinel_ports; do
    cli "$p" sentinel get-master-addr-by-name "$name" 2>/dev/null | grep -q . || return 1
    [ "$(cli "$p" sentinel replicas "$name" 2>/dev/null | grep -c '^master-link-status$')" -ge 2 ] || return 1
    [ "$(cli "$p" sentinel sentinels "$name" 2>/dev/null | grep -c '^runid$')" -eq 2 ] || return 1
  done
  local replicas=0
  for p in $data_ports; do
    if cli "$p" info replication 2>/dev/null | grep -q '^role:slave'; then
      replicas=$((replicas + 1))
      cli "$p" info replication | grep -q '^master_link_status:up' || return 1
    fi
  done
  [ "$replicas" -eq 2 ]
}

stop() { stop_ours $sentinel_ports $data_ports; }

start() {
  command -v redis-server >/dev/null || { log "redis-server is not installed"; exit 1; }
  command -v redis-cli >/dev/null || { log "redis-cli is not installed"; exit 1; }
  if healthy; then
    log "already running on $host:$base-$((base + 5))"
    url
    return
  fi
  stop # a half-started setup of ours is rebuilt from scratch
  ports_free $data_ports $sentinel_ports || exit 1
  local p
  mkdir -p "$dir"
  for p in $data_ports; do
    mkdir -p "$dir/$p"
    local replicaof=()
    [ "$p" != "$base" ] && replicaof=(--replicaof "$host" "$base")
    redis-server --port "$p" --bind "$host" --protected-mode yes \
      --save "" --appendonly no --dir "$dir/$p" "${replicaof[@]}" \
      --daemonize yes --pidfile "$dir/$p/redis.pid" --logfile "$dir/$p/redis.log"
  done
  for p in $sentinel_ports; do
    mkdir -p "$dir/$p"
    # A Sentinel rewrites its configuration file, so each gets its own.
    cat >"$dir/$p/sentinel.conf" <<EOF
port $p
bind $host
protected-mode yes
dir $dir/$p
daemonize yes
pidfile $dir/$p/redis.pid
logfile $dir/$p/redis.log
sentinel monitor $name $host $base 2
sentinel down-after-milliseconds $name 2000
sentinel failover-timeout $name 10000
sentinel parallel-syncs $name 1
EOF
    redis-server "$dir/$p/sentinel.conf" --sentinel
  done
  await_ping $data_ports $sentinel_ports || { stop; exit 1; }
  for _ in $(seq 300); do healthy && break; sleep 0.1; done
  if ! healthy; then
    log "Sentinel setup did not become healthy within 30s"; stop; exit 1
  fi
  log "up on $host:$base-$((base + 5)) (files in $dir)"
  url
}

case $cmd in
  start) start ;;
  stop) stop ;;
  running) healthy ;;
  *) echo "usage: $0 start|stop|running [base-port]" >&2; exit 2 ;;
esac

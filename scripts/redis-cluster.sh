#!/usr/bin/env bash
# redis-cluster.sh start|stop|running [base-port]
#
# Starts (or stops) a throwaway local Redis Cluster of 3 masters and 3
# replicas on 127.0.0.1:base..base+5 (default base 7000), for tests.
#
# start  launches six `redis-server --cluster-enabled yes` processes bound to
#        127.0.0.1 only, without persistence, with their files under
#        $SESSIONKIT_REDIS_CLUSTER_DIR (default ${TMPDIR:-/tmp}/sessionkit-redis-cluster-<base>),
#        joins them with `redis-cli --cluster create --cluster-replicas 1`,
#        waits until every node reports cluster_state:ok and every replica's
#        link to its master is up, and prints the seed list as the last line
#        of stdout:
#            export SESSIONKIT_REDIS_CLUSTER=$(scripts/redis-cluster.sh start | tail -n 1)
#        Starting a cluster that is already up only prints the seeds again.
# stop   kills exactly the processes this script started for that base port
#        (by their pid files, checked against their command line) and
#        removes the directory. Stopping a cluster that is not running is fine.
# running exits 0 when the cluster this script starts on that base port is up
#        and healthy, 1 otherwise.
#
# cluster-require-full-coverage is off, so while one master is down (and
# until its replica is promoted) the other masters keep serving their slots:
# a session store should lose only the sessions on the failed shard, and
# only for the failover window.
set -euo pipefail

cmd=${1:-}
base=${2:-7000}
case $base in '' | *[!0-9]*) echo "redis-cluster.sh: bad base port: $base" >&2; exit 2 ;; esac
ports=$(seq "$base" $((base + 5)))
dir=${SESSIONKIT_REDIS_CLUSTER_DIR:-${TMPDIR:-/tmp}/sessionkit-redis-cluster-$base}
host=127.0.0.1

log() { printf 'redis-cluster.sh: %s\n' "$*" >&2; }
# shellcheck source=scripts/redis-procs.sh
. "$(dirname "$0")/redis-procs.sh"

seeds() {
  local s="" p
  for p in $ports; do s="$s${s:+,}$host:$p"; done
  echo "$s"
}

healthy() {
  local p
  for p in $ports; do
    ours "$p" >/dev/null || return 1
    cli "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
  [ "$(cli "$base" cluster nodes 2>/dev/null | grep -c 'slave')" -eq 3 ] || return 1
  for p in $ports; do
    if cli "$p" info replication 2>/dev/null | grep -q '^role:slave'; then
      cli "$p" info replication | grep -q '^master_link_status:up' || return 1
    fi
  done
}

stop() { stop_ours $ports; }

start() {
  command -v redis-server >/dev/null || { log "redis-server is not installed"; exit 1; }
  command -v redis-cli >/dev/null || { log "redis-cli is not installed"; exit 1; }
  if healthy; then
    log "already running on $host:$base-$((base + 5))"
    seeds
    return
  fi
  stop # a half-started or damaged cluster of ours is rebuilt from scratch
  ports_free $ports || exit 1
  local p
  mkdir -p "$dir"
  for p in $ports; do
    mkdir -p "$dir/$p"
    redis-server --port "$p" --bind "$host" --protected-mode yes \
      --cluster-enabled yes --cluster-config-file "$dir/$p/nodes.conf" \
      --cluster-node-timeout 2000 --cluster-require-full-coverage no \
      --save "" --appendonly no --dir "$dir/$p" \
      --daemonize yes --pidfile "$dir/$p/redis.pid" --logfile "$dir/$p/redis.log"
  done
  await_ping $ports || { stop; exit 1; }
  local addrs=() 
  for p in $ports; do addrs+=("$host:$p"); done
  if ! redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1; then
    log "cluster create failed:"; cat "$dir/create.log" >&2; stop; exit 1
  fi
  for _ in $(seq 300); do healthy && break; sleep 0.1; done
  if ! healthy; then
    log "cluster did not become healthy within 30s"; stop; exit 1
  fi
  log "up on $host:$base-$((base + 5)) (files in $dir)"
  seeds
}

case $cmd in
  start) start ;;
  stop) stop ;;
  running) healthy ;;
  *) echo "usage: $0 start|stop|running [base-port]" >&2; exit 2 ;;
esac

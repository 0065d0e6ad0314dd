#!/usr/bin/env bash
# The live recorder under the heaviest load redis-benchmark can make, against `redis-cli monitor`
# on the same load: commands captured (vs Redis's own INFO commandstats), CPU time of the
# capturing process, and bytes written.
#
#   [PIPELINE=16] [CLIENTS=50] bench/record-load.sh [REQUESTS]     (default 1,000,000 per test)
#
# Builds cachetape in release mode first (into $CARGO_TARGET_DIR when set). Each capture runs
# alone against a fresh private redis-server; redis-benchmark runs SET and GET (REQUESTS each)
# while it is attached.
set -euo pipefail
n=${1:-1000000}
cd "$(dirname "$0")/.."
for b in redis-server redis-cli redis-benchmark; do
  command -v $b >/dev/null || { echo "needs $b (apt-get install redis-server redis-tools)"; exit 2; }
done
cargo build --release -q --bin cachetape
ct=${CARGO_TARGET_DIR:-$PWD/target}/release/cachetape
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_redis() {
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  sleep 0.2
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
    --daemonize yes --logfile "$dir/log" --pidfile "$dir/pid"
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.1; done
}
trap 'redis-cli -p $port shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT

# The capture runs as the only child of a bash that reports its CPU time (`times`) when it ends.
# $1: name; the rest: the capture command. Prints: captured commands, CPU seconds, bytes.
measure() {
  local name=$1 out=$dir/$1.out
  shift
  start_redis
  redis-cli -p "$port" config resetstat >/dev/null
  bash -c '"$@" 2> '"$dir/$name.err"'; times > '"$dir/$name.cpu" _ "$@" &
  local wrapper=$!
  sleep 1.5 # connected and capturing
  redis-benchmark -p "$port" -t set,get -n "$n" -c "${CLIENTS:-50}" -P "${PIPELINE:-16}" -q \
    > "$dir/$name.bench" 2>&1
  local capturer
  capturer=$(pgrep -P "$wrapper" | head -1)
  sleep 1 # let the capture drain what Redis already sent
  kill -TERM "$capturer"
  wait "$wrapper" || true
  local stats
  stats=$(redis-cli -p "$port" info commandstats | tr -d '\r' |
    awk -F'[:=,]' '/^cmdstat_(set|get):/ {s += $3} END {print s}')
  local captured
  if [ "$name" = cachetape ]; then
    captured=$("$ct" cat --format monitor "$out" 2>/dev/null | grep -c -E '^[0-9.]+ \[[0-9]+ [^]]+\] "(SET|GET)"' || true)
  else
    captured=$(grep -c -E '^[0-9.]+ \[[0-9]+ [^]]+\] "(SET|GET)"' "$out" || true)
  fi
  local cpu
  cpu=$(sed -n 2p "$dir/$name.cpu" | awk '{
      split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.2f", u[1]*60 + u[2] + s[1]*60 + s[2] }')
  local rps
  rps=$(tr '\r' '\n' < "$dir/$name.bench" | awk '/requests per second/ {printf "%s %s  ", $1, $2}')
  echo "$name|$stats|$captured|$cpu|$(stat -c %s "$out")|$rps"
}

a=$(measure redis-cli sh -c "exec redis-cli -p $port monitor > $dir/redis-cli.out")
b=$(measure cachetape "$ct" record --redis "redis://127.0.0.1:$port" -o "$dir/cachetape.out" -q)
printf '%-10s %12s %12s %9s %14s %8s  %s\n' capture "commandstats" captured "CPU (s)" "bytes" "" "redis-benchmark"
for row in "$a" "$b"; do
  IFS='|' read -r name stats captured cpu bytes rps <<<"$row"
  printf '%-10s %12s %12s %9s %14s %7.1f%%  %s\n' "$name" "$stats" "$captured" "$cpu" "$bytes" \
    "$(echo "$captured $stats" | awk '{print 100*$1/$2}')" "$rps"
done
IFS='|' read -r _ _ _ cpu_a bytes_a _ <<<"$a"
IFS='|' read -r _ _ _ cpu_b bytes_b _ <<<"$b"
awk -v ca="$cpu_a" -v cb="$cpu_b" -v ba="$bytes_a" -v bb="$bytes_b" 'BEGIN {
  printf "cachetape / redis-cli: CPU x%.2f (limit 1.5), bytes x%.3f = 1/%.1f (limit 1/5)\n", cb/ca, bb/ba, ba/bb }'

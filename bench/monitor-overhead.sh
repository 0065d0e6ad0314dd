#!/usr/bin/env bash
# What one MONITOR client costs Redis on this machine: redis-benchmark against a private
# redis-server without, then with, `redis-cli monitor > /dev/null` attached.
#
#   [PIPELINE=16] bench/monitor-overhead.sh [REQUESTS]   (PIPELINE=1: one request per round trip)
set -euo pipefail
n=${1:-300000}
for b in redis-server redis-cli redis-benchmark; do
  command -v $b >/dev/null || { echo "needs $b (apt-get install redis-server redis-tools)"; exit 2; }
done
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --daemonize yes \
  --logfile "$dir/log" --pidfile "$dir/pid"
trap 'redis-cli -p $port shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
sleep 0.3

run() { redis-benchmark -p "$port" -t set,get -n "$n" -c 50 -P "${PIPELINE:-16}" -q --csv | tr -d '"' | awk -F, 'NR>1 {printf "%s %s\n", $1, $2}'; }
printf '%-8s %16s %16s %8s\n' test "alone (req/s)" "+MONITOR (req/s)" ratio
base=$(run)
redis-cli -p "$port" monitor > /dev/null &
mon=$!
sleep 0.3
with=$(run)
kill $mon
paste <(echo "$base") <(echo "$with") | awk '{printf "%-8s %16.0f %16.0f %8.2f\n", $1, $2, $4, $4/$2}'

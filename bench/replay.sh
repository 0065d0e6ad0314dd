#!/usr/bin/env bash
# As-recorded replay throughput against real redis-server: a 1M-command
# GET/SET/DEL/EXPIRE trace, decoded from the trace file and replayed on one thread, and the same
# commands through `redis-cli --pipe` into a private redis-server, measured in the same run.
#
#   bench/replay.sh [COMMANDS]
set -euo pipefail
cd "$(dirname "$0")/.."
for b in redis-server redis-cli; do
  command -v $b >/dev/null || { echo "needs $b (apt-get install redis-server redis-tools)"; exit 2; }
done
cargo bench -q -p cachetape-replayer --bench replay -- "${1:-1000000}"

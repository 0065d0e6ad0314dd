#!/usr/bin/env bash
# Analysis throughput and peak memory (target: >= 2M events/s, <= 1 GB RSS on 10M events), with
# plain decoding of the same trace as the baseline, measured in the same run. Each step runs in
# its own process so each peak RSS is its own. The trace is generated once into target/.
#
#   bench/analyze.sh [EVENTS]        # default 10000000
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000000}"
trace="$PWD/target/analyze-bench-$n.bin"
cargo bench -q -p cachetape-analyzer --bench analyze --no-run 2>/dev/null
run() { cargo bench -q -p cachetape-analyzer --bench analyze -- "$@"; }
[ -f "$trace" ] || run gen "$trace" "$n" >/dev/null
printf "%-30s %10s %14s %12s\n" "step ($n events)" seconds "events/s" "peak RSS"
for step in decode analyze decode analyze; do
  read -r what secs events rss < <(run "$step" "$trace")
  printf "%-30s %10s %14s %9d MiB\n" "$what" "$secs" \
    "$(awk -v e="$events" -v s="$secs" 'BEGIN { printf "%d", e / s }')" "$((rss / 1024))"
done
echo "trace: $trace, $(du -h "$trace" | cut -f1)"

#!/usr/bin/env bash
# Perturbation throughput: schedule evaluations per second on a synthetic trace with many small
# components, with one worker as the baseline, measured in the same run. The model
# (perturb/benches/perturb.rs): COMPONENTS cache-aside races of 6-8 units each, explored
# exhaustively under a 5 ms window.
#
#   bench/perturb.sh [COMPONENTS]        # default 100000
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
cargo bench -q -p cachetape-perturb --bench perturb --no-run 2>/dev/null
printf "%-6s %11s %12s %10s %9s %16s\n" jobs components schedules "stale" seconds "schedules/s"
cargo bench -q -p cachetape-perturb --bench perturb -- "$n" 1 2 |
  while read -r jobs comps schedules found secs; do
    printf "%-6s %11s %12s %10s %9s %16s\n" "$jobs" "$comps" "$schedules" "$found" "$secs" \
      "$(awk -v e="$schedules" -v s="$secs" 'BEGIN { printf "%d", e / s }')"
  done

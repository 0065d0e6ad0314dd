#!/usr/bin/env bash
# Trace size against zstd of the MONITOR text it came from: 200,000 lines of synthetic
# cache-aside traffic (random clients, order:N keys, JSON values), imported at the default level
# and at level 19, against `zstd -3` and `zstd -19` of the same text, with import times.
#
#   bench/trace-size.sh [LINES]
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-200000}
command -v zstd >/dev/null || { echo "needs the zstd command (apt-get install zstd)"; exit 2; }
cargo build -q --release
cargo build -q --release -p cachetape-testkit --example gen-monitor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
target/release/examples/gen-monitor "$lines" > "$tmp/capture.txt"

size() { stat -c %s "$1"; }
seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }

t3=$(seconds zstd -q -3 -f "$tmp/capture.txt" -o "$tmp/z3")
t19=$(seconds zstd -q -19 -f "$tmp/capture.txt" -o "$tmp/z19")
i3=$(seconds target/release/cachetape import --monitor "$tmp/capture.txt" -o "$tmp/t3.bin")
i19=$(seconds target/release/cachetape import --level 19 --monitor "$tmp/capture.txt" -o "$tmp/t19.bin")

text=$(size "$tmp/capture.txt")
printf '%-38s %12s %10s %10s %8s\n' "$lines MONITOR lines" bytes "vs zstd-3" "vs zstd-19" seconds
row() { printf '%-38s %12d %10.2f %10.2f %8.2f\n' "$1" "$2" "$(echo "$2 / $(size "$tmp/z3")" | bc -l)" "$(echo "$2 / $(size "$tmp/z19")" | bc -l)" "$3"; }
row "text (redis-cli monitor > file)" "$text" 0
row "zstd -3 of the text (baseline)" "$(size "$tmp/z3")" "$t3"
row "zstd -19 of the text (baseline)" "$(size "$tmp/z19")" "$t19"
row "cachetape import (default, level 3)" "$(size "$tmp/t3.bin")" "$i3"
row "cachetape import --level 19" "$(size "$tmp/t19.bin")" "$i19"

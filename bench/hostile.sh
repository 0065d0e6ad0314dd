#!/usr/bin/env bash
# Peak memory and time of cachetape on hostile but tiny traces (issue 18, item 3): 20
# `SETRANGE kN 536870000 x` lines, and one 50k-pair MSET + one 100k-key DEL + a GET (with a
# mapping for their keys). Each command runs under /usr/bin/time -v, stopped after 60 s.
#
#   bench/hostile.sh [BINARY]      # default: target/release/cachetape (built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/cachetape}
[ -x "$bin" ] || cargo build -q --release --bin cachetape
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
with open(f"{d}/setrange.txt", "w") as f:
    for i in range(20):
        f.write(f'1700000000.{i:06d} [0 127.0.0.1:5000] "SETRANGE" "k{i}" "536870000" "x"\n')
with open(f"{d}/mset.txt", "w") as f:
    pairs = " ".join(f'"k:{i}" "v{i}"' for i in range(50000))
    keys = " ".join(f'"k:{i}"' for i in range(100000))
    f.write(f'1700000000.000001 [0 127.0.0.1:5000] "MSET" {pairs}\n')
    f.write(f'1700000000.000002 [0 127.0.0.1:5000] "DEL" {keys}\n')
    f.write('1700000000.000003 [0 127.0.0.1:5000] "GET" "k:1"\n')
with open(f"{d}/mset.toml", "w") as f:
    f.write('[[rule]]\nkey = "k:{id}"\ntable = "shop.orders"\ncolumn = "status"\n')
PY
for t in setrange mset; do
  "$bin" import --monitor "$dir/$t.txt" -o "$dir/$t.bin" >/dev/null
done
printf '%-9s %-22s %10s %14s\n' trace command seconds "peak RSS (MB)"
for t in setrange mset; do
  for c in "cat --replies" "analyze" "replay --perturb 5ms"; do
    set +e
    timeout 60 /usr/bin/time -v "$bin" $c "$dir/$t.bin" >/dev/null 2>"$dir/time.txt"
    rc=$?
    set -e
    if [ $rc -eq 124 ]; then
      printf '%-9s %-22s %10s %14s\n' "$t" "$c" ">60 (stopped)" "-"
      continue
    fi
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$dir/time.txt")
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/time.txt")
    printf '%-9s %-22s %10s %14s\n' "$t" "$c" "$secs" "$((kb / 1024))"
  done
done

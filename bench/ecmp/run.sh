#!/usr/bin/env bash
# Full-size ECMP active-active director benchmark (issue #16):
#   bench/ecmp/run.sh [bird|frr ...]     (default: bird frr)
# One lab guest boot per router (tests/lab/lab.sh run) running
# tests/lab/ecmp.sh with the issue's sizes: 3000 short connections over
# 20 s, 300 long-lived connections, BFD 100 ms x 3, and the capacity phase
# (connections per second through the VIP at 3, 2, 1 directors and with
# an active/backup VRRP pair). Results: bench/ecmp/results-ROUTER.txt (the
# guest output) and the table on stdout. Knobs: BENCH_CONNS, BENCH_DURATION,
# BENCH_LONG, BENCH_BFD_MS, BENCH_BFD_MULT, BENCH_CAPACITY_S.
# Holds /tmp/rkd-bench.lock (one benchmark at a time on the shared machine).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$REPO/bench/ecmp
BIN=${RKEEPALIVED_BIN:-$REPO/target/debug/rkeepalived}
[[ -x $BIN ]] || { echo "missing $BIN: cargo build -p rkeepalived --bin rkeepalived" >&2; exit 1; }
routers=("$@")
((${#routers[@]})) || routers=(bird frr)
"$REPO/tests/lab/lab.sh" build >&2
exec 7>/tmp/rkd-bench.lock
flock 7
rc=0
for r in "${routers[@]}"; do
  script=$REPO/tests/lab/.build/ecmp-bench-$r.sh
  cat >"$script" <<SCRIPT
#!/bin/bash
export ROUTER=$r CONNS=${BENCH_CONNS:-3000} DURATION=${BENCH_DURATION:-20} LONG=${BENCH_LONG:-300}
export OBSERVE_S=15 CONC=32 CAPACITY=1 CAPACITY_S=${BENCH_CAPACITY_S:-10}
export BFD_MS=${BENCH_BFD_MS:-100} BFD_MULT=${BENCH_BFD_MULT:-3} RKEEPALIVED_BIN=$BIN
exec $REPO/tests/lab/ecmp.sh
SCRIPT
  chmod +x "$script"
  echo "== $r ($(date -u +%FT%TZ), commit $(git -C "$REPO" rev-parse --short HEAD))" >&2
  LAB_TIMEOUT=${LAB_TIMEOUT:-1800} "$REPO/tests/lab/lab.sh" run "$script" >"$OUT/results-$r.txt" 2>&1 || rc=1
  sed -n '/^@@ECMP-TABLE/,/^@@ECMP-TABLE-END/p' "$OUT/results-$r.txt" | grep '^|'
done
exit $rc

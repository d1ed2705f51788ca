#!/usr/bin/env bash
# "One probe per distinct target": V virtual servers sharing the same R real
# servers (default 1,000 x 10, all with the same TCP_CHECK every 1 s) should
# cost about the CPU of R checkers, not V x R. keepalived 2.2.7 runs one
# checker per (virtual server, real server), so it pays V x R checks.
#
#   bench/check/shared.sh [V=1000] [R=10] [SECONDS=20]
#
# Same run, same network namespace (loopback listener), per process tree:
# keepalived (bench/check/fake_ipvs.so preloaded: this host kernel has no
# IPVS) and ours (`check-node --mock`), each on the shared config and on a
# baseline with one virtual server holding the R real servers. Prints CPU
# seconds over the window and the ratios shared / baseline (ours: ~1) and
# ours / keepalived on the shared config. Not run by the test suite.
set -euo pipefail
V=${1:-1000}
R=${2:-10}
SECS=${3:-20}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/check
PORT=18080
NS=rkc-shared$$

# shellcheck source=bench/check/lib.sh
. "$HERE/lib.sh"
bench_prologue shared.sh

# PROFILE=debug measures an unoptimised build (ratios only; a release
# build from scratch is long on a small machine).
PROFILE=${PROFILE:-release}
if [[ ${BUILD:-1} = 1 ]]; then
  if [[ $PROFILE = release ]]; then
    (cd "$ROOT" && cargo build --release -q -p rkeepalived-check --example check-node)
  else
    (cd "$ROOT" && cargo build -q -p rkeepalived-check --example check-node)
  fi
fi
build_fake_ipvs

# gen VS RS -> config: VS virtual servers (203.0.113.x, ports 80..) each
# with the same RS real servers 127.1.0.1.. :PORT, TCP_CHECK every 1 s.
gen() {
  python3 - "$1" "$2" "$PORT" <<'PY'
import sys
v, r, port = (int(x) for x in sys.argv[1:4])
out = ["global_defs {\n    router_id rkc_shared\n}\n"]
for i in range(v):
    out.append(f"virtual_server 203.0.113.{i % 250 + 1} {80 + i // 250} {{\n"
               "    delay_loop 1\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n")
    for j in range(r):
        out.append(f"    real_server 127.1.0.{j + 1} {port} {{\n        weight 1\n"
                   "        TCP_CHECK {\n            connect_timeout 2\n        }\n    }\n")
    out.append("}\n")
sys.stdout.write("".join(out))
PY
}
gen "$V" "$R" > "$work/shared.conf"
gen 1 "$R" > "$work/baseline.conf"

ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" python3 "$HERE/listener.py" --port "$PORT" --procs 2 --seconds $((8 * (SECS + 30) + 120)) >/dev/null 2>&1 &
disown
sleep 1
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

tree_pids() { local p=$1; echo "$p"
  for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree_pids "$c"; done; }
cpu_ticks() { local t=0 f; for p in $(tree_pids "$1"); do
  [[ -r /proc/$p/stat ]] || continue
  f=($(sed 's/^.*) //' /proc/"$p"/stat 2>/dev/null || echo))
  ((${#f[@]} > 12)) && t=$((t + f[11] + f[12])); done; echo "$t"; }

# measure NAME COMMAND... -> "RESULT name cpu_s"
measure() {
  local name=$1; shift
  ip netns exec "$NS" "$@" > "$work/$name.log" 2>&1 &
  local pid=$! hz t0 t1
  sleep "${SETTLE:-5}"   # parse, warm-up (checks spread over delay_loop)
  hz=$(getconf CLK_TCK)
  t0=$(cpu_ticks "$pid"); sleep "$SECS"; t1=$(cpu_ticks "$pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  echo "RESULT $name $(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')"
}

out=$work/results
for conf in baseline shared; do
  measure "keepalived-$conf" env LD_PRELOAD="$work/fake_ipvs.so" FAKE_IPVS_LOG="$work/ka-$conf.ops" \
    keepalived -n -C -l -f "$work/$conf.conf" -p "$work/ka.pid" -c "$work/ka-check.pid" | tee -a "$out"
  sleep 1
  measure "rkeepalived-$conf" env RUST_LOG=warn \
    "$ROOT/target/$PROFILE/examples/check-node" --mock "$work/$conf.conf" | tee -a "$out"
  sleep 1
done

awk -v v="$V" -v r="$R" -v secs="$SECS" '
  $1 == "RESULT" { cpu[$2] = $3 }
  END {
    printf "\n%d virtual servers x %d shared real servers, TCP_CHECK every 1 s, %d s window (cpu seconds):\n", v, r, secs
    for (k in cpu) printf "  %-24s %8.2f\n", k, cpu[k]
    if (cpu["rkeepalived-baseline"] > 0)
      printf "ours shared / ours baseline (%d checkers): %.2f (target ~1)\n", r, cpu["rkeepalived-shared"] / cpu["rkeepalived-baseline"]
    if (cpu["keepalived-baseline"] > 0)
      printf "keepalived shared / keepalived baseline: %.2f\n", cpu["keepalived-shared"] / cpu["keepalived-baseline"]
    if (cpu["keepalived-shared"] > 0)
      printf "ours / keepalived, shared config: %.3f\n", cpu["rkeepalived-shared"] / cpu["keepalived-shared"]
  }' "$out"

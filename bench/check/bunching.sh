#!/usr/bin/env bash
# Do the checks stay spread over the delay_loop, or run in bunches?
#
#   flock /tmp/rkd-bench.lock bench/check/bunching.sh [KIND=tcp|http] [RATE=2500] [WINDOW=60]
#
# N real servers (default 10,000; 127.1.x.y:18080, gen_conf.py) checked
# every N / RATE seconds by each contender in turn (CONTENDERS, default
# "keepalived rkeepalived": keepalived 2.2.7 with fake_ipvs.so preloaded,
# ours as check-node --mock; CHECK_NODE names another check-node build,
# and CHECK_NODE_NEW a second one run as contender "rkeepalived-new").
# The listener-side counter (SYN-ACKs from :18080, an nft rule in the
# namespace, as in ceiling.sh) is read every SLOT seconds (default 0.25)
# from the start of the checker for WINDOW seconds. Prints per contender:
#
#   BUNCH name kind offered first_s mean/s peak/s top10%
#
# first_s: seconds from the start until the first check; mean/s and
# peak/s: over the slots from the first check on; top10%: the share of
# the checks done in the busiest tenth of those slots (10 % when evenly
# spread; 100 % when everything runs in bursts). SERIES=1 also prints
# each slot's count. Every checker is scheduled the keepalived way, the
# next attempt delay_loop after the previous one ended: a stall (startup,
# host load) bunches the checks due meanwhile, and nothing spreads them
# again unless the scheduler takes its own lateness back.
set -euo pipefail
KIND=${1:-tcp}
RATE=${2:-2500}
WINDOW=${3:-60}
N=${N:-10000}
SLOT=${SLOT:-0.25}
CONTENDERS=${CONTENDERS:-"keepalived rkeepalived"}
NICE=${NICE:--10}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/check
CHECK_NODE=${CHECK_NODE:-$ROOT/target/release/examples/check-node}
# Another build beside it: CONTENDERS="... rkeepalived-new" CHECK_NODE_NEW=path.
declare -A CHECK_NODE_OF=([rkeepalived-new]=${CHECK_NODE_NEW:-})
PORT=18080 VICTIM_PORT=18081
NS=rkc-bunch$$

[[ $KIND = tcp || $KIND = http ]] || { echo "bunching.sh: KIND is tcp or http" >&2; exit 1; }
command -v nft >/dev/null || { echo "bunching.sh: nft is needed (listener-side counter)" >&2; exit 1; }
[[ -x $CHECK_NODE ]] || { echo "bunching.sh: no $CHECK_NODE (cargo build --release -p rkeepalived-check --example check-node)" >&2; exit 1; }
# shellcheck source=bench/check/lib.sh
. "$HERE/lib.sh"
bench_prologue bunching.sh
build_fake_ipvs
cc -O2 -Wall -o "$work/tiny_server" "$HERE/tiny_server.c"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
dl=$(awk -v n="$N" -v r="$RATE" 'BEGIN { d = sprintf("%.6f", n / r); sub(/0+$/, "", d); sub(/\.$/, "", d); print d }')
python3 "$HERE/gen_conf.py" "$N" "$PORT" "$VICTIM_PORT" "$dl" "$KIND" "$dl" > "$work/keepalived.conf"

run() {
  local name=$1
  listener_netns "$PORT"
  nice -n "$NICE" ip netns exec "$NS" "$work/tiny_server" "$KIND" 0.0.0.0 "$PORT" 2 100000 >/dev/null 2>&1 &
  nice -n "$NICE" ip netns exec "$NS" "$work/tiny_server" "$KIND" 127.2.0.1 "$VICTIM_PORT" 1 100000 >/dev/null 2>&1 &
  disown -a  # killed with the namespace; no job-control notice
  sleep 0.5
  local -a cmd
  case $name in
    keepalived) cmd=(env LD_PRELOAD="$work/fake_ipvs.so" FAKE_IPVS_LOG=/dev/null
                     keepalived -n -C -l -f "$work/keepalived.conf" -p "$work/ka.pid" -c "$work/ka-check.pid") ;;
    rkeepalived*) cmd=(env RUST_LOG=warn "${CHECK_NODE_OF[$name]:-$CHECK_NODE}" --mock "$work/keepalived.conf") ;;
    *) echo "bunching.sh: unknown contender $name" >&2; exit 1 ;;
  esac
  nice -n "$NICE" ip netns exec "$NS" "${cmd[@]}" >"$work/$name.log" 2>&1 &
  local pid=$! series=$work/$name.series
  : >"$series"
  local t0 prev cur t
  t0=$(date +%s%N); prev=$(synacks)
  local slots
  slots=$(awk -v w="$WINDOW" -v s="$SLOT" 'BEGIN { printf "%d", w / s }')
  for ((i = 1; i <= slots; i++)); do
    # Sleep to the slot's boundary, not a fixed time: the reads cost time.
    t=$(awk -v t0="$t0" -v i="$i" -v s="$SLOT" -v now="$(date +%s%N)" 'BEGIN { d = (t0 + i * s * 1e9 - now) / 1e9; if (d < 0) d = 0; printf "%.3f", d }')
    sleep "$t"
    cur=$(synacks)
    echo "$(( ($(date +%s%N) - t0) / 1000000 )) $((cur - prev))" >>"$series"
    prev=$cur
  done
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  wait 2>/dev/null || true
  ip netns del "$NS"
  [[ ${SERIES:-0} = 1 ]] && awk -v n="$name" '{ printf "SLOT %s %s %s\n", n, $1, $2 }' "$series"
  sort -n "$series" | awk -v name="$name" -v kind="$KIND" -v rate="$RATE" -v slot="$SLOT" '
    { ms[NR] = $1; n[NR] = $2 }
    END {
      first = 0
      for (i = 1; i <= NR; i++) if (n[i] > 0) { first = i; break }
      if (!first) { printf "BUNCH %-12s %4s %7d %7s %7s %7s %6s\n", name, kind, rate, "-", 0, 0, "-"; exit }
      k = 0; total = 0; peak = 0
      for (i = first; i <= NR; i++) { v[++k] = n[i]; total += n[i]; if (n[i] > peak) peak = n[i] }
      # The busiest tenth of the slots (insertion sort, descending).
      for (i = 2; i <= k; i++) { x = v[i]; j = i - 1; while (j > 0 && v[j] < x) { v[j + 1] = v[j]; j-- } v[j + 1] = x }
      top = int(k / 10); if (top < 1) top = 1; s = 0
      for (i = 1; i <= top; i++) s += v[i]
      printf "BUNCH %-12s %4s %7d %7.1f %7.0f %7.0f %5.1f%%\n", name, kind, rate, ms[first] / 1000, total / (k * slot), peak / slot, total ? s / total * 100 : 0
    }'
}

echo "== check bunching, $KIND, N=$N, offered $RATE/s (delay_loop $dl s), window $WINDOW s, slots of $SLOT s, $(date -u +%FT%TZ), commit $(git -C "$ROOT" rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-18s %4s %7s %7s %7s %7s %6s\n" "" kind offered first_s mean/s peak/s top10%
for name in $CONTENDERS; do
  run "$name"
done

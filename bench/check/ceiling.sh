#!/usr/bin/env bash
# Checker ceiling: the highest rate of checks per second this host sustains
# with every check done on time, no false failure, and a killed server
# removed within its budget; keepalived 2.2.7's checker vs ours, same
# config, same run, in a private network namespace (loopback only).
#
#   flock /tmp/rkd-bench.lock bench/check/ceiling.sh [KIND=tcp|http|ssl] [RATES="5000 10000 20000 30000 50000 70000"]
#
# Environment: N (real servers, default 10000), WARMUP (max s until the
# checks flow at 90 % of the offered rate, default 120), STEP (measured window, s,
# default 15, and at least ROUNDS delay_loops: ROUNDS default 5), SETTLE (s before the window, default 15), CONTENDERS
# (default "keepalived rkeepalived"; rkeepalived-1t is check-node with
# --probe-threads 0, every check started from the engine's one thread;
# rkeepalived-daemon the whole daemon), THREADS (check-node --threads,
# default 1), NICE (the checkers' and listeners' nice value, default -10:
# on a machine shared with builds, which run at nice 0 to 19, the measured
# processes get the CPU first; the same for every contender), BUILD=0 skips the
# release build, KEEP_GOING=1 runs every rate even after a failed one,
# RETRY_FAILED=0 does not run a failed step again.
#
# The offered rate is N / delay_loop: N real servers (127.1.x.y:18080)
# with `delay_loop` = N / rate (fractional: keepalived 2.2.7 reads it with
# read_timer(), microsecond resolution, lib/parser.c; so do we),
# `retry 1`, `delay_before_retry` = delay_loop, `connect_timeout 2`, plus
# one victim (127.2.0.1:18081) on its own listener. One fresh checker
# process per step. The window spans at least ROUNDS delay_loops: a
# checker whose checks run in bunches (keepalived's do, see bunching.sh)
# completes them in bursts, and a window of a round or two counts one
# burst more or less (93.6 % at 1,000/s and 99.3 % at 2,000/s in one run).
# A step passes when, over the window:
#  (a) achieved >= 95 % of offered: SYN-ACKs sent by the :18080 listeners,
#      counted by an nft rule in the namespace (the listener side, the same
#      for both: a half-open probe and a full handshake both get one);
#  (b) no false failure: no dest op other than the victim's in the op log
#      (keepalived: fake_ipvs.so's log; ours: check-node --op-log);
#  (c) the victim, killed in the middle of the window, is deleted within
#      delay_loop + retry x delay_before_retry + 100 ms of the kill.
# A failed step is run once more (the machine is shared): it passes if the
# second run does. The ceiling is the highest rate passed before the first
# failure. The whole daemon (`rkeepalived -C`, no IPVS on this host, no
# op log) is judged by (a) only.
#
# CPU per step: the checker's process tree, the listeners', and the whole
# host's busy share over the window (both cores; other jobs included), and
# the 1-minute load average. keepalived runs with fake_ipvs.so preloaded
# (see host.sh). Namespace settings, the same for every contender:
# ip_local_port_range 1024-65535, tcp_tw_reuse 1, somaxconn and
# tcp_max_syn_backlog 65535, RLIMIT_NOFILE at its hard limit.
set -euo pipefail
KIND=${1:-tcp}
RATES=${2:-"5000 10000 20000 30000 50000 70000"}
N=${N:-10000}
STEP=${STEP:-15}
SETTLE=${SETTLE:-15}
CONTENDERS=${CONTENDERS:-"keepalived rkeepalived"}
NICE=${NICE:--10}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/check
PORT=18080 VICTIM_PORT=18081
NS=rkc-ceil$$

[[ $KIND = tcp || $KIND = http || $KIND = ssl ]] || { echo "ceiling.sh: KIND is tcp, http or ssl" >&2; exit 1; }
command -v nft >/dev/null || { echo "ceiling.sh: nft is needed (listener-side counter)" >&2; exit 1; }
# shellcheck source=bench/check/lib.sh
. "$HERE/lib.sh"
bench_prologue ceiling.sh

if [[ ${BUILD:-1} = 1 ]]; then
  (cd "$ROOT" && CARGO_INCREMENTAL=0 cargo build --release -q -p rkeepalived-check --example check-node --example tls-server -p rkeepalived --bin rkeepalived)
fi
build_fake_ipvs
cc -O2 -Wall -o "$work/tiny_server" "$HERE/tiny_server.c"

listener_netns "$PORT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# listen ADDR PORT PROCS: the target of every check. ssl: one
# tls-server process (crates/check/examples/tls-server.rs) with PROCS
# runtime threads: its session tickets must be valid on every
# connection, so one process, not PROCS with SO_REUSEPORT.
listen() {
  if [[ $KIND = ssl ]]; then
    exec nice -n "$NICE" ip netns exec "$NS" "$ROOT/target/release/examples/tls-server" "$1" "$2" "$3"
  else
    exec nice -n "$NICE" ip netns exec "$NS" "$work/tiny_server" "$KIND" "$1" "$2" "$3" 100000
  fi
}
listen 0.0.0.0 "$PORT" 2 >/dev/null 2>&1 &
LISTENER=$!
disown
sleep 0.5

tree_pids() { local p=$1; echo "$p"
  for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree_pids "$c"; done; }
cpu_ticks() { local t=0 f; for p in $(tree_pids "$1"); do
  [[ -r /proc/$p/stat ]] || continue
  f=($(sed 's/^.*) //' /proc/"$p"/stat 2>/dev/null || echo))
  ((${#f[@]} > 12)) && t=$((t + f[11] + f[12])); done; echo "$t"; }
# "busy total" jiffies of the whole host (all cores).
host_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }

# step NAME RATE -> "STEP name rate offered achieved pct flaps detect_ms budget_ms cpu_checker_pct cpu_listener_pct host_busy_pct load1 verdict"
step() {
  local name=$1 rate=$2
  local dl budget_ms
  # Whole seconds are written as integers ("1", not "1.000000").
  dl=$(awk -v n="$N" -v r="$rate" 'BEGIN { d = sprintf("%.6f", n / r); sub(/0+$/, "", d); sub(/\.$/, "", d); print d }')
  budget_ms=$(awk -v d="$dl" 'BEGIN { printf "%d", (d + d) * 1000 + 100 }')
  python3 "$HERE/gen_conf.py" "$N" "$PORT" "$VICTIM_PORT" "$dl" "$KIND" "$dl" > "$work/keepalived.conf"
  local oplog=$work/$name-$rate.ops
  : > "$oplog"
  listen 127.2.0.1 "$VICTIM_PORT" 1 >/dev/null 2>&1 &
  local victim=$!
  sleep 0.3
  local -a cmd
  case $name in
    keepalived) cmd=(env LD_PRELOAD="$work/fake_ipvs.so" FAKE_IPVS_LOG="$oplog"
                     keepalived -n -C -l -f "$work/keepalived.conf" -p "$work/ka.pid" -c "$work/ka-check.pid") ;;
    rkeepalived) cmd=(env RUST_LOG=warn "$ROOT/target/release/examples/check-node" --threads "${THREADS:-1}"
                      --mock --op-log "$oplog" "$work/keepalived.conf") ;;
    rkeepalived-1t) cmd=(env RUST_LOG=warn "$ROOT/target/release/examples/check-node" --probe-threads 0
                         --mock --op-log "$oplog" "$work/keepalived.conf") ;;
    rkeepalived-daemon) oplog=-
                        cmd=(env RUST_LOG=warn "$ROOT/target/release/rkeepalived" -n -l -C -f "$work/keepalived.conf"
                             -p "$work/rk.pid" -c "$work/rk-check.pid") ;;
  esac
  nice -n "$NICE" ip netns exec "$NS" "${cmd[@]}" > "$work/$name.log" 2>&1 &
  local pid=$! i
  # Warm-up: until the checks flow at >= 90 % of the offered rate over one
  # second (at most WARMUP s, default 120). keepalived logs a line per
  # checker at activation and checks each server once before it settles
  # into its loop: on this loaded host that takes a minute at 10,000
  # servers, and its rate over the first round says nothing about its loop.
  local a b
  a=$(synacks)
  for i in $(seq 1 "${WARMUP:-120}"); do
    sleep 1; b=$(synacks)
    ((b - a >= rate * 9 / 10)) && break
    a=$b
  done
  sleep "$SETTLE"
  local hz c0 c1 l0 l1 h0 h1 s0 s1 ops0 kill_ns=0
  hz=$(getconf CLK_TCK)
  [[ $oplog != - ]] && ops0=$(wc -l < "$oplog")
  c0=$(cpu_ticks "$pid"); l0=$(cpu_ticks "$LISTENER"); h0=$(host_ticks); s0=$(synacks)
  local t_start t_end
  t_start=$(date +%s%N)
  local window
  window=$(awk -v s="$STEP" -v d="$dl" -v r="${ROUNDS:-5}" 'BEGIN { w = d * r; w = (w == int(w)) ? w : int(w) + 1; print (w > s) ? w : s }')
  for i in $(seq 1 "$window"); do
    sleep 1
    if ((i == window / 2)); then
      kill_ns=$(date +%s%N)
      kill -9 "$victim"; wait "$victim" 2>/dev/null || true
    fi
  done
  s1=$(synacks); t_end=$(date +%s%N)
  c1=$(cpu_ticks "$pid"); l1=$(cpu_ticks "$LISTENER"); h1=$(host_ticks)
  local flaps=n/a detect=n/a
  if [[ $oplog != - ]]; then
    # The victim's delete may come after the window (a slow step).
    local deadline=$((kill_ns + budget_ms * 1000000 * 3 + 2000000000)) t=
    while :; do
      t=$(awk -v s="$kill_ns" '$1 > s && /127\.2\.0\.1/ { print $1; exit }' "$oplog")
      [[ -n $t || $(date +%s%N) -gt $deadline ]] && break
      sleep 0.1
    done
    if [[ -n $t ]]; then detect=$(( (t - kill_ns) / 1000000 )); else detect=timeout; fi
    flaps=$(tail -n +$((ops0 + 1)) "$oplog" | grep -vc '127\.2\.0\.1' || true)
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  kill -9 "$victim" 2>/dev/null || true; wait "$victim" 2>/dev/null || true
  local load1
  load1=$(cut -d' ' -f1 /proc/loadavg)
  awk -v name="$name" -v rate="$rate" -v s0="$s0" -v s1="$s1" -v t0="$t_start" -v t1="$t_end" \
      -v flaps="$flaps" -v det="$detect" -v budget="$budget_ms" -v c0="$c0" -v c1="$c1" -v l0="$l0" -v l1="$l1" \
      -v h0="$h0" -v h1="$h1" -v hz="$hz" -v load1="$load1" 'BEGIN {
    secs = (t1 - t0) / 1e9
    got = (s1 - s0) / secs
    pct = got / rate * 100
    split(h0, a, " "); split(h1, b, " ")
    host = (b[1] - a[1]) / (b[2] - a[2]) * 100
    ok = pct >= 95
    if (flaps != "n/a" && flaps > 0) ok = 0
    if (det != "n/a" && (det == "timeout" || det > budget)) ok = 0
    printf "STEP %-18s %6d %8.0f %6.1f %5s %7s %7d %8.1f %8.1f %6.1f %5s %s\n", name, rate, got, pct, flaps, det, budget,
      (c1 - c0) / hz / secs * 100, (l1 - l0) / hz / secs * 100, host, load1, ok ? "pass" : "FAIL"
  }'
}

header() {
  printf "%-23s %6s %8s %6s %5s %7s %7s %8s %8s %6s %5s %s\n" "" offered achieved "%" flaps det_ms bud_ms \
    "chk_cpu%" "lst_cpu%" "host%" load verdict
}

echo "== checker ceiling, $KIND, N=$N servers, window ${STEP} s (at least ${ROUNDS:-5} delay_loops) after ${SETTLE} s, $(date -u +%FT%TZ), commit $(git -C "$ROOT" rev-parse --short HEAD)"
header
results=$work/results
for name in $CONTENDERS; do
  ceiling=0 failed=0
  for rate in $RATES; do
    line=$(step "$name" "$rate"); echo "$line" | tee -a "$results"
    if [[ $line != *pass && ${RETRY_FAILED:-1} = 1 ]]; then
      line=$(step "$name" "$rate"); echo "$line (again)" | tee -a "$results"
    fi
    sleep 2
    if [[ $line = *pass ]]; then
      ((failed)) || ceiling=$rate
    else
      failed=1
      [[ ${KEEP_GOING:-0} = 1 ]] || break
    fi
  done
  echo "CEILING $name $ceiling" | tee -a "$results"
done
awk '$1 == "CEILING" { c[$2] = $3 } END {
  if (c["keepalived"] > 0) for (k in c) if (k != "keepalived")
    printf "RATIO %s / keepalived = %.2f (goal >= 3; %s >= 50000: %s)\n", k, c[k] / c["keepalived"], k, (c[k] >= 50000 ? "met" : "missed") }' "$results"

#!/usr/bin/env bash
# CPU per HTTP_GET / SSL_GET check of ours at a fixed offered rate, and
# where it goes (perf call graphs), on the host in a private namespace
# (loopback only). Issue #17 item 4.
#
#   flock /tmp/rkd-bench.lock bench/check/http_profile.sh [KIND=http|ssl] [RATE=2000] [SECONDS=10]
#
# N = 2 x RATE real servers (127.1.x.y:18080, `delay_loop` 2 s) with the
# same config as ceiling.sh, one `check-node --mock` (release build,
# THREADS / PROBE_THREADS passed through), the listener of ceiling.sh
# (tiny_server.c for http, examples/tls-server for ssl). After SETTLE
# (default 10) s: over SECONDS, the checks completed (SYN-ACKs of the
# listener, as in ceiling.sh), the checker's and the listener's CPU, and
# the checker's CPU per check in us; with PERF=1 (default) also
# `perf record -g` of the checker over the same window and a report by
# symbol ($OUT, default /tmp/http_profile.KIND.txt). BUILD=0 skips the
# release build; NICE (default 0) the checker's and http listener's nice
# value; CHECK_NODE=PATH profiles another check-node binary (a
# baseline build).
set -euo pipefail
KIND=${1:-http}
RATE=${2:-2000}
SECS=${3:-10}
SETTLE=${SETTLE:-10}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/check
PORT=18080 VICTIM_PORT=18081
NS=rkc-prof$$
OUT=${OUT:-/tmp/http_profile.$KIND.txt}

[[ $KIND = http || $KIND = ssl ]] || { echo "http_profile.sh: KIND is http or ssl" >&2; exit 1; }
# shellcheck source=bench/check/lib.sh
. "$HERE/lib.sh"
bench_prologue http_profile.sh
if [[ ${BUILD:-1} = 1 ]]; then
  (cd "$ROOT" && CARGO_INCREMENTAL=0 cargo build --release -q -p rkeepalived-check --example check-node --example tls-server)
fi
cc -O2 -Wall -o "$work/tiny_server" "$HERE/tiny_server.c"
listener_netns "$PORT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ $KIND = ssl ]]; then
  ip netns exec "$NS" "$ROOT/target/release/examples/tls-server" 0.0.0.0 "$PORT" 2 >/dev/null 2>"$work/tls.log" &
  ip netns exec "$NS" "$ROOT/target/release/examples/tls-server" 127.2.0.1 "$VICTIM_PORT" 1 >/dev/null 2>&1 &
else
  nice -n "${NICE:-0}" ip netns exec "$NS" "$work/tiny_server" http 0.0.0.0 "$PORT" 2 100000 >/dev/null 2>&1 &
  ip netns exec "$NS" "$work/tiny_server" http 127.2.0.1 "$VICTIM_PORT" 1 100000 >/dev/null 2>&1 &
fi
LISTENER=$(jobs -p | head -1)
sleep 0.5
N=$((RATE * 2))
python3 "$HERE/gen_conf.py" "$N" "$PORT" "$VICTIM_PORT" 2 "$KIND" 2 > "$work/keepalived.conf"
nice -n "${NICE:-0}" ip netns exec "$NS" env RUST_LOG=warn "${CHECK_NODE:-$ROOT/target/release/examples/check-node}" --mock \
  --threads "${THREADS:-1}" ${PROBE_THREADS:+--probe-threads "$PROBE_THREADS"} "$work/keepalived.conf" \
  > "$work/check.log" 2>&1 &
pid=$!
sleep "$SETTLE"
ticks() { local t=0 f p; for p in "$@"; do
  f=($(sed 's/^.*) //' /proc/"$p"/stat 2>/dev/null || echo))
  ((${#f[@]} > 12)) && t=$((t + f[11] + f[12])); done; echo "$t"; }
lpids() { pgrep -P "$LISTENER" 2>/dev/null; echo "$LISTENER"; }
# Time the checker's threads spent runnable but waiting for a CPU (ns,
# /proc/PID/task/*/schedstat field 2): starved or idle?
rundelay() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ t += $2 } END { print t + 0 }'; }
hz=$(getconf CLK_TCK)
w0=$(rundelay "$pid")
s0=$(synacks); c0=$(ticks "$pid"); l0=$(ticks $(lpids)); t0=$(date +%s%N)
if [[ ${PERF:-1} = 1 ]]; then
  perf record -q -g -F 999 -p "$pid" -o "$work/perf.data" -- sleep "$SECS" >/dev/null 2>&1
else
  sleep "$SECS"
fi
s1=$(synacks); c1=$(ticks "$pid"); l1=$(ticks $(lpids)); t1=$(date +%s%N)
w1=$(rundelay "$pid")
awk -v w0="$w0" -v w1="$w1" -v t0="$t0" -v t1="$t1" 'BEGIN {
  printf "checker waited for a CPU %.1f%% of the window (summed over its threads)\n", (w1 - w0) / (t1 - t0) * 100 }'
# Kernel counters of the namespace since its start: dropped SYNs
# (accept queue full) come back after the 1 s initial RTO.
ip netns exec "$NS" nstat -az TcpExtListenOverflows TcpExtListenDrops TcpExtTCPSynRetrans \
  TcpRetransSegs TcpExtTCPTimeouts TcpAttemptFails TcpEstabResets 2>/dev/null | awk 'NR > 1 { printf "%s=%s ", $1, $2 } END { print "" }'
echo "checker VmRSS $(awk '/^VmRSS/ { print $2, $3 }' /proc/"$pid"/status)"
[[ $KIND = ssl ]] && echo "tls-server: $(tail -n 1 "$work/tls.log")"
kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
awk -v k="$KIND" -v r="$RATE" -v s0="$s0" -v s1="$s1" -v c0="$c0" -v c1="$c1" -v l0="$l0" -v l1="$l1" \
    -v t0="$t0" -v t1="$t1" -v hz="$hz" -v commit="$(git -C "$ROOT" rev-parse --short HEAD)" 'BEGIN {
  secs = (t1 - t0) / 1e9; got = (s1 - s0) / secs; cpu = (c1 - c0) / hz / secs
  printf "PROFILE %s commit %s offered %d/s achieved %.0f/s checker %.1f%% listener %.1f%% of a core, %.1f us checker CPU per check\n",
    k, commit, r, got, cpu * 100, (l1 - l0) / hz / secs * 100, (got > 0 ? cpu / got * 1e6 : 0)
}'
if [[ ${PERF:-1} = 1 ]]; then
  perf report -i "$work/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -v '^#' | grep '%' | head -12 > "$OUT" || true
  perf report -i "$work/perf.data" --no-children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep '%' | head -60 >> "$OUT" || true
  perf report -i "$work/perf.data" --children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep '%' | head -60 >> "$OUT" || true
  echo "perf report: $OUT"
fi

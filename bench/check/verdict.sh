#!/usr/bin/env bash
# Verdict -> IPVS latency at scale: how long after our checker decides that a
# real server failed does its delete reach IPVS, with N other real servers
# (TCP_CHECK every DELAY_LOOP=1 s) in the table. Issue #17's goal: < 50 ms at 10,000
# dests (a change is applied from the last programmed state, O(change); the
# full dump only runs in the background resync).
#
#   bench/check/verdict.sh [N=10000] [KILLS=5]
#
# Runs check-node (release) in a private network namespace, loopback only:
# on the real kernel IPVS when it is there (the qemu lab:
# `tests/lab/lab.sh run bench/check/verdict.sh 10000 5`), else on the
# in-memory table (`--mock`, this IPVS-less host). The victim (127.2.0.1) is
# killed KILLS times (restarted in between, and re-added before the next
# kill). Verdict = the timestamp of the checker's "TCP_CHECK on service
# [127.2.0.1]... failed." log line; applied = the op log's timestamp of the
# delete (written after the kernel acknowledged it). Prints each kill and the
# worst. BUILD=0 skips the build (the lab guest cannot build). RUST_LOG
# overrides the checker's log filter (default info; `info,rkeepalived_check::
# engine=debug` adds the planned/applied time of every IPVS update),
# KEEP_LOG=DIR keeps the checker's log and the op log there, PERF=FILE records a perf profile
# (call graphs, sample times on CLOCK_REALTIME: verdict_profile.py cuts out
# the verdict -> delete windows) of the checker while the victim is killed.
# DELAY_LOOP (default 1) sets every checker's delay_loop.
set -euo pipefail
N=${1:-10000}
KILLS=${2:-5}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/check
BIN=${CHECK_NODE:-$ROOT/target/release/examples/check-node}
PORT=18080 VICTIM_PORT=18081
NS=rkc-verdict$$
[[ $(id -u) = 0 ]] || { echo "verdict.sh: must run as root" >&2; exit 1; }
if [[ ${BUILD:-1} = 1 ]] && command -v cargo >/dev/null; then
  (cd "$ROOT" && cargo build --release -q -p rkeepalived-check --example check-node)
fi
[[ -x $BIN ]] || { echo "verdict.sh: no $BIN (cargo build --release -p rkeepalived-check --example check-node)" >&2; exit 1; }
work=$(mktemp -d /tmp/rkc-verdict.XXXXXX)
cleanup() {
  ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" addr add 127.2.0.1/32 dev lo 2>/dev/null || true
python3 "$HERE/gen_conf.py" "$N" "$PORT" "$VICTIM_PORT" "${DELAY_LOOP:-1}" >"$work/keepalived.conf"
mode=(--mock)
what="in-memory table (--mock)"
if [[ -e /proc/net/ip_vs ]] || modprobe ip_vs 2>/dev/null; then
  mode=() what="kernel IPVS"
  ip netns exec "$NS" ipvsadm -C 2>/dev/null || true
fi
ip netns exec "$NS" python3 "$HERE/listener.py" --port "$PORT" --procs 2 --seconds 3600 >/dev/null 2>&1 &
victim() {
  ip netns exec "$NS" python3 "$HERE/listener.py" --port "$VICTIM_PORT" --bind 127.2.0.1 --procs 1 \
    --seconds 3600 >/dev/null 2>&1 &
  VICTIM=$!
}
victim
sleep 0.5
oplog=$work/ops.log
: >"$oplog"
ip netns exec "$NS" env RUST_LOG="${RUST_LOG:-info}" NO_COLOR=1 "$BIN" "${mode[@]}" --op-log "$oplog" "$work/keepalived.conf" \
  >"$work/check.log" 2>&1 &
pid=$!
added() { grep -c 'add dest 127\.2\.0\.1' "$oplog" || true; }
deleted() { grep -c 'delete dest 127\.2\.0\.1' "$oplog" || true; }
for i in $(seq 1 600); do (($(added) >= 1)) && break; sleep 0.1; done
(($(added) >= 1)) || { echo "the victim was never added; log:"; tail -5 "$work/check.log"; exit 1; }
sleep 5  # every checker has run once: steady state
if [[ -n ${PERF:-} ]]; then
  # PERF=FILE: profile the checker (call graphs) while the victim is killed.
  perf record -q -F 4999 -k realtime -g -o "$PERF" -p "$pid" 2>/dev/null &
  perfpid=$!
  sleep 0.5
fi
echo "== verdict -> IPVS delete, $N real servers + the victim, $what"
worst=0
for k in $(seq 1 "$KILLS"); do
  before=$(deleted)
  kill "$VICTIM"; wait "$VICTIM" 2>/dev/null || true
  for i in $(seq 1 300); do (($(deleted) > before)) && break; sleep 0.05; done
  (($(deleted) > before)) || { echo "kill $k: no delete within 15 s"; exit 1; }
  applied=$(grep 'delete dest 127\.2\.0\.1' "$oplog" | tail -1 | awk '{print $1}')
  # The log line's RFC 3339 UTC timestamp, in ns.
  stamp=$(grep 'TCP_CHECK on service \[127\.2\.0\.1\]' "$work/check.log" | grep -a 'failed' | tail -1 |
    sed 's/\x1b\[[0-9;]*m//g' | awk '{print $1}')
  verdict=$(date -d "$stamp" +%s%N)
  us=$(( (applied - verdict) / 1000 ))
  ((us > worst)) && worst=$us
  printf 'kill %d: verdict %s -> delete applied %+d us\n' "$k" "$stamp" "$us"
  victim
  before=$(added)
  for i in $(seq 1 300); do (($(added) > before)) && break; sleep 0.05; done
done
echo "worst: $worst us (goal < 50000 us)"
if [[ -n ${PERF:-} ]]; then
  kill -INT "$perfpid"; wait "$perfpid" 2>/dev/null || true
fi
if [[ -n ${KEEP_LOG:-} ]]; then mkdir -p "$KEEP_LOG"; cp "$work/check.log" "$oplog" "$KEEP_LOG/"; fi
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true

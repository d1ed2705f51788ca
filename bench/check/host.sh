#!/usr/bin/env bash
# Checker scale benchmark on the host, full scale: N real servers with
# TCP_CHECK every 1 s, keepalived 2.2.7's checker vs ours, same config,
# same run, in a private network namespace (loopback only).
#
#   bench/check/host.sh [N=10000] [SECONDS=30] [ROUNDS=1]   (SETTLE=30 s first)
#
# This host kernel has no IPVS and keepalived's checker exits without it,
# so keepalived runs with bench/check/fake_ipvs.so preloaded: an in-memory
# "IPVS" behind libnl (GET_INFO answered, every command acknowledged, dest
# commands timestamped to a log). Ours runs `check-node --mock --op-log`:
# an in-memory table that answers dumps as the kernel would (our engine
# dumps and reconciles every 60 s; keepalived never dumps). Neither pays
# kernel IPVS work; the mock table (~2.5 MB at 10k dests), which the kernel
# holds in production, is counted in our memory. Both pay the same TCP
# checks, which are the load being compared.
#
# Per checker (whole process tree): CPU seconds over SECONDS after warm-up
# (utime+stime), CPU per check, peak RSS (VmRSS summed over the tree, what
# `ps` shows; it counts pages keepalived's parent and checker child share
# after fork twice), peak PSS (shared pages split between the processes
# that map them: the memory the tree really costs), and detection latency = victim
# listener killed -> the checker's delete of 127.2.0.1 (op log timestamp),
# against delay_loop + retry x delay_before_retry + 100 ms = 2.1 s.
# ROUNDS > 1 alternates keepalived/ours and reports each round; ONLY=keepalived,
# ONLY=rkeepalived (check-node) or ONLY=rkeepalived-daemon runs one of them;
# DAEMON=0 leaves the daemon out. Every 10 s of the window, CPU per check
# and the netns' TIME_WAIT socket count are printed (SLICES lines, stderr).
set -euo pipefail
N=${1:-10000}
SECS=${2:-30}
ROUNDS=${3:-1}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/check
PORT=18080 VICTIM_PORT=18081
NS=rkc-host$$

# shellcheck source=bench/check/lib.sh
. "$HERE/lib.sh"
bench_prologue host.sh

(cd "$ROOT" && cargo build --release -q -p rkeepalived-check --example check-node -p rkeepalived --bin rkeepalived)
build_fake_ipvs
python3 "$HERE/gen_conf.py" "$N" "$PORT" "$VICTIM_PORT" 1 > "$work/keepalived.conf"

ip netns add "$NS"
ip -n "$NS" link set lo up
# Backgrounded commands use `ip netns exec` itself (it execs), so $! is the
# process to measure or kill, not a shell function's subshell.
ip netns exec "$NS" python3 "$HERE/listener.py" --port "$PORT" --procs 2 --seconds $((ROUNDS * 2 * (SECS + 60) + 600)) >/dev/null 2>&1 &
disown  # killed by cleanup; no job-control notice
sleep 1
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

tree_pids() { local p=$1; echo "$p"
  for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree_pids "$c"; done; }
cpu_ticks() { local t=0 f; for p in $(tree_pids "$1"); do
  [[ -r /proc/$p/stat ]] || continue
  f=($(sed 's/^.*) //' /proc/"$p"/stat 2>/dev/null || echo))
  ((${#f[@]} > 12)) && t=$((t + f[11] + f[12])); done; echo "$t"; }
# cpu_split PID -> "user_ticks system_ticks" of the tree: where a check's
# cost goes (ours trades user-space work for a half-open probe; the kernel
# side is most of either implementation's cost).
cpu_split() { local u=0 s=0 f; for p in $(tree_pids "$1"); do
  [[ -r /proc/$p/stat ]] || continue
  f=($(sed 's/^.*) //' /proc/"$p"/stat 2>/dev/null || echo))
  ((${#f[@]} > 12)) && { u=$((u + f[11])); s=$((s + f[12])); }; done; echo "$u $s"; }
# tree_kib PID FILE FIELD: FIELD (kB) of /proc/*/FILE summed over the tree.
tree_kib() { local r=0 v; for p in $(tree_pids "$1"); do
  v=$(awk -v f="$3" '$1 == f {print $2}' /proc/"$p"/"$2" 2>/dev/null || echo 0); r=$((r + ${v:-0})); done; echo "$r"; }

# measure NAME OPLOG COMMAND... -> "RESULT name cpu_s rss_kib detect_ms"
measure() {
  local name=$1 oplog=$2; shift 2
  [[ $oplog = - ]] && oplog=$work/$name.none  # no op log: no detection time
  : > "$oplog"
  ip netns exec "$NS" python3 "$HERE/listener.py" --port "$VICTIM_PORT" --bind 127.2.0.1 --procs 1 \
    --seconds $((SECS + 600)) >/dev/null 2>&1 &
  local victim=$!
  sleep 0.5
  ip netns exec "$NS" "$@" > "$work/$name.log" 2>&1 &
  local pid=$!
  # Warm-up: the checkers spread their first checks over delay_loop, and
  # keepalived parses 10k servers; wait until the victim has been added.
  local i
  if [[ $oplog = *.none ]]; then
    sleep 5
  else
    for i in $(seq 1 300); do grep -q '127.2.0.1' "$oplog" && break; sleep 0.1; done
    grep -q '127.2.0.1' "$oplog" || { echo "$name never added the victim; log:" >&2; tail -5 "$work/$name.log" >&2; }
  fi
  # Steady state before measuring: keepalived closes with FIN, and its cost
  # per check changes while the TIME_WAIT table fills (~20 s at 10k/s).
  sleep "${SETTLE:-30}"
  local hz t0 t1 peak=0 r peak_pss=0
  hz=$(getconf CLK_TCK)
  t0=$(cpu_ticks "$pid")
  local split0 split1
  split0=$(cpu_split "$pid")
  local ops0
  ops0=$(wc -l < "$oplog")
  # CPU per 10 s slice and TIME_WAIT sockets, to show drift over the window.
  local slices="" tprev=$t0 t
  for i in $(seq 1 "$SECS"); do
    sleep 1; r=$(tree_kib "$pid" status VmRSS:); ((r > peak)) && peak=$r
    r=$(tree_kib "$pid" smaps_rollup Pss:); ((r > peak_pss)) && peak_pss=$r
    if ((i % 10 == 0)); then
      t=$(cpu_ticks "$pid")
      slices+=" $(awk -v a="$tprev" -v b="$t" -v hz="$hz" -v n="$N" 'BEGIN { printf "%.0f", (b - a) / hz * 1e6 / (n * 10) }')us/tw$(ip netns exec "$NS" ss -tan state time-wait | tail -n +2 | wc -l)"
      tprev=$t
    fi
  done
  t1=$(cpu_ticks "$pid")
  split1=$(cpu_split "$pid")
  [[ -n $slices ]] && echo "SLICES $name (cpu per check per 10 s slice / TIME_WAIT sockets):$slices" >&2
  local flaps
  # Ops on other servers during the window: false failures under load.
  flaps=$(tail -n +$((ops0 + 1)) "$oplog" | grep -vc '127\.2\.0\.1' || true)
  kill "$victim"; wait "$victim" 2>/dev/null || true
  local start detect=timeout
  [[ $oplog = *.none ]] && detect=n/a
  start=$(date +%s%N)
  for i in $(seq 1 500); do
    [[ $detect = n/a ]] && break
    local t
    t=$(awk -v s="$start" '$1 > s && /127\.2\.0\.1/ { print $1; exit }' "$oplog")
    if [[ -n $t ]]; then detect=$(( (t - start) / 1000000 )); break; fi
    sleep 0.02
  done
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  local user_sys
  user_sys=$(awk -v a="$split0" -v b="$split1" -v hz="$hz" 'BEGIN { split(a, x, " "); split(b, y, " ");
    printf "%.2f %.2f", (y[1] - x[1]) / hz, (y[2] - x[2]) / hz }')
  echo "RESULT $name $(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }') $peak $detect $flaps $peak_pss $user_sys"
}

out=$work/results
for round in $(seq 1 "$ROUNDS"); do
  [[ ${ONLY:-keepalived} = keepalived ]] &&
  measure keepalived "$work/ka-ops.log" env LD_PRELOAD="$work/fake_ipvs.so" FAKE_IPVS_LOG="$work/ka-ops.log" \
    keepalived -n -C -l -f "$work/keepalived.conf" -p "$work/ka.pid" -c "$work/ka-check.pid" | tee -a "$out"
  sleep 2
  [[ ${ONLY:-rkeepalived} = rkeepalived ]] &&
  measure rkeepalived "$work/rk-ops.log" env RUST_LOG=warn \
    "$ROOT/target/release/examples/check-node" --mock --op-log "$work/rk-ops.log" "$work/keepalived.conf" | tee -a "$out"
  sleep 2
  # The whole daemon as operators run it (supervisor + checker child), on
  # this IPVS-less host: checks run, the IPVS sync fails and is retried every
  # 5 s (its cost is in the numbers), so no detection time.
  [[ ${DAEMON:-1} = 1 && ${ONLY:-rkeepalived-daemon} = rkeepalived-daemon ]] &&
  measure rkeepalived-daemon - env RUST_LOG=warn \
    "$ROOT/target/release/rkeepalived" -n -l -C -f "$work/keepalived.conf" -p "$work/rk.pid" -c "$work/rk-check.pid" \
    | tee -a "$out"
  sleep 2
done

awk -v n="$N" -v secs="$SECS" '
  $1 == "RESULT" { k = $2; cpu[k] += $3; runs[k]++; if ($4 > rss[k]) rss[k] = $4
                   det[k] = det[k] " " $5; fl[k] += $6; if ($7 > pss[k]) pss[k] = $7
                   usr[k] += $8; sys[k] += $9 }
  END {
    checks = n * secs
    printf "\n%-18s %6s %8s %13s %12s %12s %18s %6s\n", "checker", "rounds", "cpu_s", "cpu_us/check", "peak_rss_KiB", "peak_pss_KiB", "detect_ms", "flaps"
    for (k in cpu) printf "%-18s %6d %8.2f %13.2f %12d %12d %18s %6d\n", k, runs[k], cpu[k] / runs[k],
                          cpu[k] / runs[k] * 1e6 / checks, rss[k], pss[k], det[k], fl[k]
    if (cpu["keepalived"] > 0) {
      printf "\nratios to keepalived (targets: cpu <= 0.5, memory <= 1.0):\n"
      for (k in cpu) if (k != "keepalived")
        printf "  %-18s cpu %.3f  rss %.3f  pss %.3f\n", k, (cpu[k] / runs[k]) / (cpu["keepalived"] / runs["keepalived"]),
          rss[k] / rss["keepalived"], pss[k] / pss["keepalived"]
    }
    printf "\nper check, user / kernel time of the process tree (the half-open probe vs keepalived'"'"'s full handshake shows in the kernel column):\n"
    for (k in cpu) printf "  %-18s user %6.2f us  kernel %6.2f us\n", k, usr[k] / runs[k] * 1e6 / checks, sys[k] / runs[k] * 1e6 / checks
    printf "detection budget: 2100 ms (delay_loop 1 s + retry 1 x delay_before_retry 1 s + 100 ms); flaps = other dest ops during the window\n"
  }' "$out"

#!/usr/bin/env bash
# Memory of the running daemons on one configuration, per process:
#   bench/scale/daemon_mem.sh CONF [SECONDS]
# Starts rkeepalived (target/release) and keepalived 2.2.7, each in the
# foreground (-n -l -D) in a network namespace of its own, one after the
# other, and prints VmHWM (peak) and VmRSS of every process of each tree
# SECONDS (default 50) after the start. ONLY=rkeepalived or ONLY=keepalived
# runs one of them; RK=path picks another rkeepalived binary; extra
# environment for rkeepalived in RK_ENV (e.g. RK_ENV="MALLOC_ARENA_MAX=1").
# Hold `flock /tmp/rkd-bench.lock` around it on a shared machine.
set -euo pipefail
conf=$(realpath "$1") secs=${2:-50}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RK=${RK:-$ROOT/target/release/rkeepalived}
work=$(mktemp -d /tmp/rkd-daemon-mem.XXXXXX)
ns=rkdmem$$

cleanup() {
  [[ -n ${pid:-} ]] && kill "$pid" 2>/dev/null && sleep 1
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

tree_pids() { # pid and all descendants
  local p=$1; echo "$p"
  for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree_pids "$c"; done
}
kib() { awk -v k="$2" '$1 == k":" {print $2}' /proc/"$1"/status 2>/dev/null || echo 0; }

run() { # name command...
  local name=$1; shift
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip netns exec "$ns" "$@" >"$work/$name.log" 2>&1 &
  pid=$!
  sleep "$secs"
  for p in $(tree_pids "$pid"); do
    # `ip netns exec` execs, so $pid is the daemon's parent process.
    printf '%-12s %-24s pid %-7s VmHWM %7s KiB  VmRSS %7s KiB  threads %s\n' "$name" \
      "$(tr '\0' ' ' </proc/"$p"/cmdline | cut -c1-24)" "$p" "$(kib "$p" VmHWM)" "$(kib "$p" VmRSS)" \
      "$(kib "$p" Threads)"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  ip netns del "$ns"
  sleep 2
}

if [[ ${ONLY:-rkeepalived} = rkeepalived ]]; then
  run rkeepalived env ${RK_ENV:-} RUST_LOG=warn "$RK" -n -l -D -f "$conf" \
    -p "$work/rk.pid" -c "$work/rk-check.pid" -r "$work/rk-vrrp.pid" -b "$work/rk-bfd.pid"
fi
if [[ ${ONLY:-keepalived} = keepalived ]]; then
  run keepalived keepalived -n -l -D -f "$conf" \
    -p "$work/ka.pid" -c "$work/ka-check.pid" -r "$work/ka-vrrp.pid" -b "$work/ka-bfd.pid"
fi

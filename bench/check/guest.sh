#!/usr/bin/env bash
# Runs inside the lab guest (real IPVS): keepalived's checker and ours on
# the same generated config, one after the other, same listener.
#   guest.sh N SECONDS REPO_ROOT   (prints RESULT lines; the lab copies this
#   script elsewhere, so the repository path is passed in)
set -euo pipefail
exec 2>&1
N=$1 SECONDS_RUN=$2 ROOT=$3
HERE=$ROOT/bench/check
PORT=18080 VICTIM_PORT=18081
# gen_conf.py puts 1000 real servers per virtual server, the victim last.
VICTIM_VS=203.0.113.$((N / 1000 + 1)):80
export VICTIM_PORT VICTIM_VS
work=$(mktemp -d /tmp/rkc-bench.XXXXXX)
ip link set lo up
python3 "$HERE/gen_conf.py" "$N" "$PORT" "$VICTIM_PORT" 1 > "$work/keepalived.conf"
python3 "$HERE/listener.py" --port "$PORT" --procs 2 --seconds $((4 * SECONDS_RUN + 1800)) &
listener=$!
trap 'kill $listener 2>/dev/null || true' EXIT
sleep 1
ulimit -n 65536 || true
ipvsadm -C
WARMUP=4 "$HERE/measure.sh" keepalived "$work/keepalived.conf" "$SECONDS_RUN" -- \
  keepalived -n -C -f "$work/keepalived.conf" -p "$work/ka.pid" -c "$work/ka-check.pid" -l
ipvsadm -C
sleep 1
RUST_LOG=warn WARMUP=4 "$HERE/measure.sh" rkeepalived "$work/keepalived.conf" "$SECONDS_RUN" -- \
  "$ROOT/target/release/examples/check-node" "$work/keepalived.conf"
ipvsadm -C

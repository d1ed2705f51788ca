#!/usr/bin/env bash
# Where a 1-real-server SIGHUP's time goes, on this host (no IPVS: the
# checker's IPVS phases are measured in the lab, bench/scale/lab_reload.sh).
# Runs the daemon (-C, checker only) in a private network namespace on
#   * bulk:  bench/ipvs's 1,000 services x 10 real servers (no checkers),
#   * 2318:  gen_2318.py (2,284 TUN services x 16 TCP-checked real servers),
#   * 2318whole: the same with router_id changed too (whole hand-over),
# sends SIGHUP with one real server's weight changed, and prints the
# reload's phase lines (-D: debug level): parse, fingerprints, delta or
# whole hand-over, encode, frame write, child decode, plan, checker
# matching; and the start's lines with their time stamps.
#
#   cargo build --release --bin rkeepalived
#   flock /tmp/rkd-bench.lock bench/scale/host_reload.sh [target/release/rkeepalived] [RUNS=3]
set -u
RKD=$(realpath "${1:-target/release/rkeepalived}")
RUNS=${2:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d /tmp/rkd-hostreload.XXXXXX)
NS=rkd-hr$$
cleanup() {
  ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
ip netns add "$NS" && ip -n "$NS" link set lo up

{
  echo 'global_defs {'; echo '  router_id rki-bench'; echo '}'
  for ((s = 0; s < 1000; s++)); do
    echo "virtual_server 192.0.2.1 $((10000 + s)) {"
    echo '  lb_algo wrr'; echo '  lb_kind NAT'; echo '  protocol TCP'
    for ((d = 1; d <= 10; d++)); do
      echo "  real_server 198.51.100.$d 8080 {"; echo '    weight 1'; echo '  }'
    done
    echo '}'
  done
} >"$W/bulk.conf"
python3 "$HERE/gen_2318.py" >"$W/2318.conf"

run() { # $1: name; $2: sed script making the 1-change config
  local name=$1 i
  sed "$2" "$W/$name.conf" >"$W/$name.changed.conf"
  cmp -s "$W/$name.conf" "$W/$name.changed.conf" && { echo "setup error: no change"; exit 1; }
  for ((i = 1; i <= RUNS; i++)); do
    cp "$W/$name.conf" "$W/cur.conf"
    : >"$W/log"
    launched=$(date -u +%H:%M:%S.%N)
    ip netns exec "$NS" "$RKD" -C -n -l -D -f "$W/cur.conf" -p "$W/p" -c "$W/c" -r "$W/r" \
      --dump-dir "$W" --status-socket "$W/s" >"$W/log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 600); do grep -q 'health checker starting' "$W/log" && break; sleep 0.1; done
    sleep 3
    # The supervisor's memory before the reload (it keeps the re-parse
    # cache: a copy of every virtual server's model).
    rss_before=$(awk '/^VmRSS/ {print $2 " " $3}' "/proc/$pid/status" 2>/dev/null)
    cp "$W/$name.changed.conf" "$W/cur.conf"
    kill -HUP "$pid"
    for _ in $(seq 1 600); do grep -q 'reload: planned' "$W/log" && break; sleep 0.1; done
    echo "== $name, run $i"
    echo "  supervisor VmRSS before the SIGHUP: ${rss_before:-?}"
    echo "  start (log time stamps; the daemon was launched at $launched):"
    grep -aE 'fingerprinted|encoded for the children|Starting .* child process|ipc: decoded|health checker starting|child is running' "$W/log" |
      head -8 | sed -E 's/\x1b\[[0-9;]*m//g' | sed 's/^/    /'
    echo "  reload:"
    grep -aE 'SIGHUP|reload: |ipc: decoded|encoded and written|encoded for the children|configuration reloaded' "$W/log" |
      sed -E 's/\x1b\[[0-9;]*m//g' | sed 's/^/  /'
    kill "$pid"; wait "$pid" 2>/dev/null
  done
}
run bulk '/^virtual_server 192.0.2.1 10500 {/,/^}/ { /real_server 198.51.100.5 8080/,/}/ s/weight 1/weight 7/ }'
run 2318 '0,/^        weight 1$/ s/^        weight 1$/        weight 7/'
# The same change plus a global_defs one: no delta, the whole configuration
# is handed over (what every reload did before delta reloads).
cp "$W/2318.conf" "$W/2318whole.conf"
run 2318whole '0,/^        weight 1$/ s/^        weight 1$/        weight 7/; s/router_id scale2318/router_id whole2318/'

#!/usr/bin/env bash
# Daemon-level comparison with keepalived 2.2.7 in the same run, same config,
# same private network namespace setup (documentation addresses only):
#   start -> VIP configured, SIGHUP -> new VIP configured, SIGTERM -> VIP
#   gone and all processes exited, and resident memory (all processes).
# Prints one line per metric with the ratio rkeepalived/keepalived
# (< 1 = rkeepalived is faster/smaller). No pass/fail: it only measures.
# Usage: sudo scripts/bench-daemon.sh [ROUNDS]   (RK_BIN=path to skip the build)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench-daemon: needs root (netns)" >&2; exit 1; }
command -v keepalived >/dev/null || { echo "bench-daemon: keepalived not installed (scripts/setup-deps.sh)" >&2; exit 1; }
rounds=${1:-5}
if [ -z "${RK_BIN:-}" ]; then
  cargo build --release -p rkeepalived --bin rkeepalived >&2
  RK_BIN=$PWD/target/release/rkeepalived
fi

ns=rkd-bench-$$
work=$(mktemp -d /tmp/rkd-bench.XXXXXX)
cleanup() {
  set +e
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add eth0 type veth peer name peer0
ip -n "$ns" addr add 192.0.2.2/24 dev eth0
ip -n "$ns" link set eth0 up
ip -n "$ns" link set peer0 up

conf() { # VIP
  cat <<CONF
global_defs {
    router_id rkd_bench
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {
        $1/24
    }
}
CONF
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
has_vip() { ip -n "$ns" -o addr show dev eth0 | grep -q " $1/"; }
wait_until() { # max_ms command...
  local limit=$1; shift
  local start; start=$(now_ms)
  until "$@"; do
    (( $(now_ms) - start > limit )) && return 1
    sleep 0.01
  done
}
no_vip() { ! has_vip "$1"; }
gone() { ! kill -0 "$1" 2>/dev/null; }
rss_kb() { # pids... -> total RSS
  local total=0 p
  for p in "$@"; do
    [ -r "/proc/$p/status" ] && total=$(( total + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status") ))
  done
  echo "$total"
}

# run_one NAME -> prints "start_ms reload_ms stop_ms rss_kb"
run_one() {
  local name=$1 d="$work/$1"
  mkdir -p "$d"
  conf 192.0.2.100 >"$d/k.conf"
  local t0; t0=$(now_ms)
  if [ "$name" = rkeepalived ]; then
    ip netns exec "$ns" "$RK_BIN" -n -G -P -f "$d/k.conf" -p "$d/k.pid" -r "$d/v.pid" -c "$d/c.pid" \
      --status-socket "$d/st.sock" --dump-dir "$d" >"$d/log" 2>&1 &
  else
    ip netns exec "$ns" keepalived -n -G -P -f "$d/k.conf" -p "$d/k.pid" -r "$d/v.pid" -c "$d/c.pid" \
      >"$d/log" 2>&1 &
  fi
  local pid=$!
  wait_until 30000 has_vip 192.0.2.100 || { echo "bench-daemon: $name never configured the VIP" >&2; cat "$d/log" >&2; exit 1; }
  local t1; t1=$(now_ms)
  sleep 1
  local rss; rss=$(rss_kb "$pid" $(pgrep -P "$pid" || true))
  conf 192.0.2.101 >"$d/k.conf"
  local t2; t2=$(now_ms)
  kill -HUP "$pid"
  wait_until 30000 has_vip 192.0.2.101 || { echo "bench-daemon: $name reload never applied" >&2; exit 1; }
  local t3; t3=$(now_ms)
  sleep 0.5
  local t4; t4=$(now_ms)
  kill -TERM "$pid"
  wait_until 30000 no_vip 192.0.2.101 || { echo "bench-daemon: $name never released the VIP" >&2; exit 1; }
  wait_until 30000 gone "$pid" || { echo "bench-daemon: $name did not exit" >&2; exit 1; }
  wait "$pid" 2>/dev/null || true
  local t5; t5=$(now_ms)
  echo "$(( t1 - t0 )) $(( t3 - t2 )) $(( t5 - t4 )) $rss"
}

declare -A sum
for name in rkeepalived keepalived; do
  for k in start reload stop rss; do sum[$name.$k]=0; done
done
for ((r = 1; r <= rounds; r++)); do
  for name in rkeepalived keepalived; do
    read -r s rl st rss < <(run_one "$name")
    sum[$name.start]=$(( ${sum[$name.start]} + s ))
    sum[$name.reload]=$(( ${sum[$name.reload]} + rl ))
    sum[$name.stop]=$(( ${sum[$name.stop]} + st ))
    sum[$name.rss]=$(( ${sum[$name.rss]} + rss ))
    echo "round $r $name: start->VIP ${s}ms, HUP->new VIP ${rl}ms, TERM->gone ${st}ms, RSS ${rss}kB" >&2
  done
done

echo "bench-daemon: $rounds rounds, means (rkeepalived vs keepalived 2.2.7, VRRP only)"
for k in start reload stop rss; do
  a=${sum[rkeepalived.$k]} b=${sum[keepalived.$k]}
  unit=ms; [ "$k" = rss ] && unit=kB
  awk -v k="$k" -v a="$a" -v b="$b" -v n="$rounds" -v u="$unit" 'BEGIN {
    ra = a / n; rb = b / n
    printf "%-7s rkeepalived %9.1f %s  keepalived %9.1f %s  ratio %s\n", k, ra, u, rb, u, (rb > 0 ? sprintf("%.2f", ra / rb) : "n/a")
  }'
done

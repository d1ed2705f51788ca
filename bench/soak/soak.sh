#!/usr/bin/env bash
# Soak test: rkeepalived (supervisor + VRRP + checker children) against a
# keepalived 2.2.7 peer in network namespaces, with faults injected for
# DURATION seconds (default 6 h). See README.md in this directory.
#
#   bench/soak/soak.sh                  # 6 h
#   DURATION=120 bench/soak/soak.sh     # 2-minute smoke
#
# Environment: DURATION (s, default 21600), STEP (s between faults, default
# 10), RKEEPALIVED (binary, default target/debug/rkeepalived), SEED (bash
# RANDOM seed, printed), OUT (results directory, default bench/soak/results),
# CHECKERS (flapping TCP_CHECKed real servers, default 1000), FLAP (s between
# flips of 5 % of them, default 7).
# Needs root, iproute2, keepalived, tcpdump, python3. Documentation
# addresses and loopback only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=${DURATION:-21600}
STEP=${STEP:-10}
BIN=${RKEEPALIVED:-$ROOT/target/debug/rkeepalived}
SEED=${SEED:-$$}
RANDOM=$SEED
OUT=${OUT:-$ROOT/bench/soak/results}
CHECKERS=${CHECKERS:-1000}
FLAP=${FLAP:-7}
TAG=soak$$
BR=rks-$TAG-br N1=rks-$TAG-n1 N2=rks-$TAG-n2
W=$(mktemp -d "/tmp/rkd-soak.XXXXXX")
mkdir -p "$OUT"
CSV=$OUT/soak-$(date +%Y%m%d-%H%M%S).csv
VIP=192.0.2.100

[ "$(id -u)" = 0 ] || { echo "soak: needs root" >&2; exit 2; }
[ -x "$BIN" ] || { echo "soak: no daemon binary at $BIN (cargo build)" >&2; exit 2; }
command -v keepalived >/dev/null || { echo "soak: keepalived not installed" >&2; exit 2; }
command -v tcpdump >/dev/null || { echo "soak: tcpdump not installed" >&2; exit 2; }

cleanup() {
  set +e
  [ -n "${DAEMON:-}" ] && kill -TERM "$DAEMON" 2>/dev/null && sleep 2
  for ns in $N1 $N2 $BR; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9
    ip netns del "$ns" 2>/dev/null
  done
  echo "soak: logs in $W"
}
trap cleanup EXIT

ip netns add $BR
ip -n $BR link add br0 type bridge
ip -n $BR link set br0 type bridge forward_delay 0 stp_state 0
ip -n $BR link set br0 up
for i in 1 2; do
  ns=rks-$TAG-n$i
  ip netns add "$ns"
  ip -n $BR link add p$i type veth peer name eth0 netns "$ns"
  ip -n $BR link set p$i master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add 192.0.2.1$i/24 dev eth0
  ip -n "$ns" link set eth0 up
done

# Every advert on the wire, with kernel timestamps, for the lateness report.
ip netns exec $BR tcpdump -i br0 -n -tt -l 'ip proto 112' >"$W/adverts.txt" 2>/dev/null &
# CHECKERS loopback backends of which 5 % flip every FLAP seconds.
ip netns exec $N1 python3 "$ROOT/bench/soak/flapper.py" --count "$CHECKERS" --period "$FLAP" \
  --seconds $((DURATION + 120)) --seed "$SEED" >"$W/flaps.txt" &

# Our node: VI_1 BACKUP 150 with an excluded VIP and a route per variant,
# one virtual server that changes with the variant, and one with CHECKERS
# flapping real servers (the host may lack IPVS: the checker copes).
conf() {
  local k=$1
  cat <<CONF
global_defs {
    router_id rkd_soak
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    version 3
    advert_int 0.5
    virtual_ipaddress {
        $VIP/24 dev eth0
    }
    virtual_ipaddress_excluded {
        192.0.2.11$k/24 dev eth0
    }
    virtual_routes {
        198.51.100.$((1 + k))/32 dev eth0
    }
}
virtual_server 192.0.2.100 800$k {
    delay_loop 5
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 192.0.2.12 800$k {
        TCP_CHECK {
            connect_timeout 1
        }
    }
}
virtual_server 192.0.2.100 9000 {
    delay_loop 2
    lb_algo rr
    lb_kind NAT
    protocol TCP
CONF
  local i
  for ((i = 0; i < CHECKERS; i++)); do
    printf '    real_server 127.0.0.1 %d {\n        TCP_CHECK {\n            connect_timeout 1\n        }\n    }\n' $((21000 + i))
  done
  echo "}"
}
cat >"$W/peer.conf" <<CONF
global_defs {
    router_id rkd_soak_peer
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    version 3
    advert_int 0.5
    virtual_ipaddress {
        $VIP/24 dev eth0
    }
}
CONF
start_peer() {
  ip netns exec $N2 keepalived -n -l -D -P -f "$W/peer.conf" -p "$W/ka.pid" -r "$W/ka-vrrp.pid" >>"$W/peer.log" 2>&1 &
  PEER=$!
}
start_peer

variant=0
conf $variant >"$W/k.conf"
start() {
  ip netns exec $N1 "$BIN" -n -l -D --no-syslog -f "$W/k.conf" -p "$W/k.pid" -r "$W/v.pid" -c "$W/c.pid" \
    --status-socket "$W/s.sock" --dump-dir "$W" >>"$W/daemon.log" 2>&1 &
  DAEMON=$!
}
start

count() { ip -n "$1" -o addr show dev eth0 | grep -c " $2/" || true; }
routes() { ip -n $N1 route show | grep -c "^$1 " || true; }
# Invariants once settled: our node holds each VIP once, the peer none, no
# address or route of another variant, one supervisor with two children.
check() {
  local k=$1 why=""
  [ "$(count $N1 $VIP)" = 1 ] || why="$why VIP-count=$(count $N1 $VIP)"
  [ "$(count $N2 $VIP)" = 0 ] || why="$why peer-holds-VIP"
  [ "$(count $N1 192.0.2.11$k)" = 1 ] || why="$why excluded-VIP-missing"
  [ "$(routes 198.51.100.$((1 + k)))" = 1 ] || why="$why route-missing"
  local j
  for j in 0 1 2; do
    [ $j = "$k" ] && continue
    [ "$(count $N1 192.0.2.11$j)" = 0 ] || why="$why orphan-VIP-$j"
    [ "$(routes 198.51.100.$((1 + j)))" = 0 ] || why="$why orphan-route-$j"
  done
  echo "$why"
}
settle() {
  local k=$1 i why
  for ((i = 0; i < 60; i++)); do
    why=$(check "$k")
    [ -z "$why" ] && return 0
    sleep 0.5
  done
  echo "$why"
  return 1
}
mem() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

echo "soak: seed $SEED, $DURATION s, a fault every $STEP s; samples in $CSV"
echo "t,action,ok,sup_rss_kb,vrrp_rss_kb,checker_rss_kb,sup_fds,vrrp_fds,checker_fds,why" >"$CSV"
settle 0 >/dev/null || { echo "soak: never converged initially"; tail -n 30 "$W/daemon.log"; exit 1; }
t_end=$((SECONDS + DURATION))
violations=0 rounds=0
while ((SECONDS < t_end)); do
  sleep "$STEP"
  action=$(( RANDOM % 7 ))
  t_fault=$(date +%s.%N)
  case $action in
    0) name=reload; variant=$(( (variant + 1) % 3 )); conf $variant >"$W/k.conf"; kill -HUP $DAEMON ;;
    1) name=kill9-vrrp; kill -9 "$(cat "$W/v.pid")" 2>/dev/null || true ;;
    2) name=kill9-checker; kill -9 "$(cat "$W/c.pid")" 2>/dev/null || true ;;
    3) name=reload+kill9-vrrp; variant=$(( (variant + 1) % 3 )); conf $variant >"$W/k.conf"
       kill -HUP $DAEMON; sleep "0.0$((RANDOM % 10))"; kill -9 "$(cat "$W/v.pid")" 2>/dev/null || true ;;
    4) name=kill9-supervisor; kill -9 $DAEMON; wait $DAEMON 2>/dev/null || true; start ;;
    5) name=dump; kill -USR1 $DAEMON ;;
    6) name=peer-restart; kill -TERM $PEER; wait $PEER 2>/dev/null || true; start_peer ;;
  esac
  rounds=$((rounds + 1))
  sleep 3
  if why=$(settle $variant); then ok=1; why=""; else ok=0; violations=$((violations + 1)); fi
  echo "$t_fault $(date +%s.%N) $name" >>"$W/faults.txt"
  v=$(cat "$W/v.pid" 2>/dev/null || echo 0) c=$(cat "$W/c.pid" 2>/dev/null || echo 0)
  echo "$SECONDS,$name,$ok,$(mem $DAEMON),$(mem "$v"),$(mem "$c"),$(fds $DAEMON),$(fds "$v"),$(fds "$c"),$why" >>"$CSV"
  ((ok)) || echo "soak: VIOLATION after $name at ${SECONDS}s:$why"
done
echo "soak: $rounds faults, $violations violations, $(wc -l <"$W/flaps.txt") checker flips"
python3 "$ROOT/bench/soak/report.py" --csv "$CSV" --adverts "$W/adverts.txt" --faults "$W/faults.txt" \
  --source 192.0.2.11 --interval 0.5 | tee "${CSV%.csv}.summary"
late=$(awk '/^late adverts outside fault windows:/ {print $NF}' "${CSV%.csv}.summary")
((violations == 0 && ${late:-1} == 0))

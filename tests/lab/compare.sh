#!/usr/bin/env bash
# keepalived vs rkeepalived IPVS comparison on keepalived's sample configs.
# Runs inside the lab guest:
#   compare.sh RKEEPALIVED_BIN SAMPLE_CONF...
# For each sample (rewritten by compare_prep.py: documentation addresses,
# short checker timing) it builds two identical director/real-server
# namespace pairs, runs `keepalived -C -n -l` in one and `RKEEPALIVED_BIN -C
# -n -l` in the other at the same time, waits until both IPVS tables are
# stable and prints them sorted as sections "ka:NAME" and "rk:NAME", followed
# by a "LAB-COMPARE sample=NAME ka_services=N ka_dests=N rk_services=N
# rk_dests=N same=yes|no" line. Real servers are namespaces owning the real
# server addresses with fake_services.py answering TCP/SMTP/HTTP/UDP, so
# every check except HTTP/SSL digests can come up.
set -uo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RK_BIN=${1:?usage: compare.sh RKEEPALIVED_BIN SAMPLE...}
shift
KA_BIN=$(command -v keepalived)
W=/tmp/rkl-compare
SETTLE_MIN_S=${LAB_SETTLE_MIN_S:-8}
SETTLE_MAX_S=${LAB_SETTLE_MAX_S:-30}
DIR_V4=203.0.113.254
DIR_V6=2001:db8:ffff::254

mkdir -p "$W"
# MISC_CHECK samples call /usr/local/bin/script.sh: make it a healthy check.
if [[ -d /usr/local/bin ]] && ! mountpoint -q /usr/local/bin; then
  mount -t tmpfs tmpfs /usr/local/bin
  printf '#!/bin/sh\nexit 0\n' >/usr/local/bin/script.sh
  chmod 0755 /usr/local/bin/script.sh
fi

section() { local n=$1; shift; echo "@@BEGIN $n@@"; "$@" 2>&1; echo "@@END $n@@"; }

# pair_up WHO: namespaces rkl-WHO-dir and rkl-WHO-rs joined by a veth.
pair_up() {
  local who=$1 d=rkl-$1-dir r=rkl-$1-rs a
  ip netns add "$d"; ip netns add "$r"
  ip -n "$d" link set lo up; ip -n "$r" link set lo up
  ip link add eth0 netns "$d" type veth peer name eth0 netns "$r"
  ip -n "$d" link set eth0 up; ip -n "$r" link set eth0 up
  ip -n "$d" addr add "$DIR_V4/32" dev eth0
  ip -n "$d" addr add "$DIR_V6/128" dev eth0 nodad
  for a in $BIND_ADDRS; do
    if [[ $a == *:* ]]; then ip -n "$d" addr add "$a/128" dev eth0 nodad; else ip -n "$d" addr add "$a/32" dev eth0; fi
  done
  for a in $RS_ADDRS; do
    if [[ $a == *:* ]]; then ip -n "$r" addr add "$a/128" dev eth0 nodad; else ip -n "$r" addr add "$a/32" dev eth0; fi
  done
  local ns net
  for ns in "$d" "$r"; do
    for net in 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24; do ip -n "$ns" route add "$net" dev eth0 2>/dev/null; done
    ip -n "$ns" -6 route add 2001:db8::/32 dev eth0 2>/dev/null
  done
  ip netns exec "$r" python3 "$LAB_DIR/fake_services.py" --tcp "$TCP_PORTS" --udp "$UDP_PORTS" \
    >"$W/$who-fake.log" 2>&1 &
  echo $! >"$W/$who-fake.pid"
}

pair_down() {
  local who=$1 pid ns
  for ns in "rkl-$who-dir" "rkl-$who-rs"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
}

start_daemon() { # start_daemon WHO BIN CONF
  local who=$1
  ip netns exec "rkl-$who-dir" setsid "$2" -C -n -l -D -f "$3" -p "$W/$who.pid" \
    -r "$W/$who-vrrp.pid" -c "$W/$who-checkers.pid" </dev/null >"$W/$who.log" 2>&1 &
  echo $! >"$W/$who.daemon"
}

stop_daemon() {
  local who=$1 pid
  pid=$(cat "$W/$who.daemon")
  kill -TERM -- "-$pid" 2>/dev/null
  for _ in $(seq 25); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

table() { ip netns exec "rkl-$1-dir" ipvsadm -Sn 2>&1 | sort; }

cleanup() { pair_down ka; pair_down rk; }
trap cleanup EXIT

for sample in "$@"; do
  name=$(basename "$sample")
  name=${name#keepalived.conf.}
  conf=/etc/keepalived/cmp-$name.conf
  python3 "$LAB_DIR/compare_prep.py" "$sample" "$conf" "$W/$name.env" || { echo "LAB-COMPARE sample=$name prep=failed"; continue; }
  # shellcheck disable=SC1090
  . "$W/$name.env"
  pair_up ka; pair_up rk
  start_daemon ka "$KA_BIN" "$conf"
  if [[ -x $RK_BIN ]]; then start_daemon rk "$RK_BIN" "$conf"; else echo "rkeepalived binary missing: $RK_BIN" >"$W/rk.log"; echo none >"$W/rk.daemon"; fi
  # Settle: at least SETTLE_MIN_S, then until both tables are unchanged for
  # three consecutive one-second samples (or SETTLE_MAX_S).
  prev="" stable=0
  for ((t = 1; t <= SETTLE_MAX_S; t++)); do
    sleep 1
    cur="$(table ka)|$(table rk)"
    if [[ $cur == "$prev" ]]; then stable=$((stable + 1)); else stable=0; fi
    prev=$cur
    ((t >= SETTLE_MIN_S && stable >= 3)) && break
  done
  table ka >"$W/$name.ka"; table rk >"$W/$name.rk"
  section "ka:$name" cat "$W/$name.ka"
  section "rk:$name" cat "$W/$name.rk"
  same=no; cmp -s "$W/$name.ka" "$W/$name.rk" && same=yes
  rk_alive=no; rk_pid=$(cat "$W/rk.daemon"); [[ $rk_pid != none ]] && kill -0 "$rk_pid" 2>/dev/null && rk_alive=yes
  echo "LAB-COMPARE sample=$name settle_s=$t ka_services=$(grep -c '^-A' "$W/$name.ka") ka_dests=$(grep -c '^-a' "$W/$name.ka") rk_services=$(grep -c '^-A' "$W/$name.rk") rk_dests=$(grep -c '^-a' "$W/$name.rk") rk_running=$rk_alive same=$same"
  if [[ $same == no ]]; then
    section "rklog:$name" tail -n 15 "$W/rk.log"
  fi
  stop_daemon ka; [[ -x $RK_BIN ]] && stop_daemon rk
  pair_down ka; pair_down rk
done
